import { ipv4At, ipv4Of, ipv6Into, isIpv4Mapped } from './ipAddress';

/** One address range as plain data: its network address with the host bits cleared. */
export interface CidrRange {
  /** As written, e.g. `10.0.0.0/8` or `::1`. */
  readonly text: string;
  readonly family: 4 | 6;
  readonly prefix: number;
  /** The network address as eight 16-bit groups; an IPv4 network is in the last two. */
  readonly groups: readonly number[];
}

export interface CidrList {
  readonly ranges: readonly CidrRange[];
  /** One message per bad entry, naming it. */
  readonly errors: readonly string[];
}

const ipv4Mask = (prefix: number): number => (prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0);
const groupMask = (prefix: number, index: number): number => {
  const bits = Math.min(16, Math.max(0, prefix - 16 * index));
  return (0xffff << (16 - bits)) & 0xffff;
};

function range(text: string, family: 4 | 6, prefix: number, groups: Uint16Array): CidrRange {
  const offset = family === 4 ? 96 : 0;
  const masked = Array.from(groups, (group, index) => group & groupMask(prefix + offset, index));
  return { text, family, prefix, groups: masked };
}

/** `a.b.c.d`, `a.b.c.d/p`, an IPv6 address or an IPv6 address with `/p`; else why not. */
export function parseCidr(text: string): CidrRange | string {
  const slash = text.indexOf('/');
  const end = slash < 0 ? text.length : slash;
  const prefixText = slash < 0 ? undefined : text.slice(slash + 1);
  const groups = new Uint16Array(8);
  const ipv4 = text.includes(':') ? -1 : ipv4At(text, 0, end);
  const family = ipv4 >= 0 ? 4 : ipv6Into(text, 0, end, groups) ? 6 : 0;
  if (family === 0) return `"${text}" is not an IP address or CIDR range`;
  const maxPrefix = family === 4 ? 32 : 128;
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) {
    return `"${text}": the prefix after / is not a number`;
  }
  const prefix = prefixText === undefined ? maxPrefix : Number(prefixText);
  if (prefix > maxPrefix) return `"${text}": prefix /${prefix} is above ${maxPrefix}`;
  if (family === 4) {
    groups[6] = Math.floor(ipv4 / 65536);
    groups[7] = ipv4 % 65536;
    return range(text, 4, prefix, groups);
  }
  // `::ffff:10.0.0.0/104` means an IPv4 range, and matches the way mapped clients do.
  if (isIpv4Mapped(groups) && prefix >= 96) return range(text, 4, prefix - 96, groups);
  return range(text, 6, prefix, groups);
}

/** A list separated by commas or spaces; empty text is an empty list. */
export function parseCidrList(text: string): CidrList {
  const ranges: CidrRange[] = [];
  const errors: string[] = [];
  for (const entry of text.split(/[\s,]+/)) {
    if (entry === '') continue;
    const parsed = parseCidr(entry);
    if (typeof parsed === 'string') errors.push(parsed);
    else ranges.push(parsed);
  }
  return { ranges, errors };
}

export type AddressMatcher = (address: string) => boolean;

/**
 * Whether an address falls in any of the ranges. Built once; a call parses the address without
 * allocating. An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) matches as IPv4 only; an address
 * that is not an IP address never matches.
 */
export function cidrMatcher(ranges: readonly CidrRange[]): AddressMatcher {
  const ipv4 = ranges.filter((entry) => entry.family === 4);
  const ipv6 = ranges.filter((entry) => entry.family === 6);
  // Signed 32-bit on both sides: `&` yields a signed result.
  const ipv4Masks = ipv4.map((entry) => ipv4Mask(entry.prefix) | 0);
  const ipv4Networks = ipv4.map(
    (entry, index) => ipv4Of(Uint16Array.from(entry.groups)) & (ipv4Masks[index] ?? 0),
  );
  const ipv6Networks = ipv6.map((entry) => Uint16Array.from(entry.groups));
  const ipv6Masks = ipv6.map((entry) =>
    Uint16Array.from({ length: 8 }, (_, i) => groupMask(entry.prefix, i)),
  );
  const groups = new Uint16Array(8);

  const matchesIpv4 = (address: number): boolean => {
    for (let r = 0; r < ipv4Masks.length; r++) {
      if ((address & (ipv4Masks[r] ?? 0)) === ipv4Networks[r]) return true;
    }
    return false;
  };
  const matchesIpv6 = (): boolean => {
    for (let r = 0; r < ipv6Networks.length; r++) {
      const network = ipv6Networks[r] as Uint16Array;
      const mask = ipv6Masks[r] as Uint16Array;
      let g = 0;
      while (g < 8 && ((groups[g] ?? 0) & (mask[g] ?? 0)) === network[g]) g++;
      if (g === 8) return true;
    }
    return false;
  };

  if (ranges.length === 0) return () => false;
  return (address) => {
    if (address.indexOf(':') < 0) {
      const value = ipv4At(address, 0, address.length);
      return value >= 0 && matchesIpv4(value);
    }
    const zone = address.indexOf('%');
    if (!ipv6Into(address, 0, zone < 0 ? address.length : zone, groups)) return false;
    return isIpv4Mapped(groups) ? matchesIpv4(ipv4Of(groups)) : matchesIpv6();
  };
}
