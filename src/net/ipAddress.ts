/**
 * Allocation-free IP address parsing for the hot path: IPv4 to an unsigned 32-bit number, IPv6
 * to eight 16-bit groups in a caller's array.
 */

const DOT = 46;
const COLON = 58;

function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  const lower = code | 0x20;
  return lower >= 97 && lower <= 102 ? lower - 87 : -1;
}

/** Dotted-quad IPv4 in `text[start, end)` as an unsigned number, or -1. Leading zeros are refused (they read as octal elsewhere). */
export function ipv4At(text: string, start: number, end: number): number {
  let value = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = start; i < end; i++) {
    const code = text.charCodeAt(i);
    if (code >= 48 && code <= 57) {
      if (digits > 0 && part === 0) return -1;
      part = part * 10 + code - 48;
      digits++;
      if (part > 255) return -1;
    } else if (code === DOT && digits > 0 && dots < 3) {
      value = value * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else {
      return -1;
    }
  }
  return digits === 0 || dots !== 3 ? -1 : value * 256 + part;
}

/** Moves the groups written after a `::` to the end and fills the gap with zeros. */
function expandGap(out: Uint16Array, count: number, gap: number): void {
  const tail = count - gap;
  for (let k = 1; k <= tail; k++) out[8 - k] = out[count - k] ?? 0;
  out.fill(0, gap, 8 - tail);
}

/** IPv6 in `text[start, end)` (`::` forms and a trailing IPv4 part allowed) into `out`; false when invalid. */
export function ipv6Into(text: string, start: number, end: number, out: Uint16Array): boolean {
  let count = 0;
  let gap = -1;
  let i = start;
  if (text.charCodeAt(i) === COLON) {
    if (text.charCodeAt(i + 1) !== COLON || end - start < 2) return false;
    gap = 0;
    i += 2;
  }
  while (i < end) {
    const groupStart = i;
    let group = 0;
    let digits = 0;
    for (let value = hexValue(text.charCodeAt(i)); i < end && value >= 0;) {
      group = group * 16 + value;
      digits++;
      value = hexValue(text.charCodeAt(++i));
    }
    if (i < end && text.charCodeAt(i) === DOT) {
      const ipv4 = count <= 6 ? ipv4At(text, groupStart, end) : -1;
      if (ipv4 < 0) return false;
      out[count++] = Math.floor(ipv4 / 65536);
      out[count++] = ipv4 % 65536;
      break;
    }
    if (digits === 0 || digits > 4 || count === 8) return false;
    out[count++] = group;
    if (i === end) break;
    if (text.charCodeAt(i) !== COLON || ++i === end) return false;
    if (text.charCodeAt(i) === COLON) {
      if (gap >= 0) return false;
      gap = count;
      i++;
    }
  }
  if (gap < 0) return count === 8;
  if (count > 7) return false;
  expandGap(out, count, gap);
  return true;
}

/** `::ffff:a.b.c.d`, as Node reports IPv4 peers of a dual-stack socket. */
export function isIpv4Mapped(groups: Uint16Array): boolean {
  return (
    groups[0] === 0 &&
    groups[1] === 0 &&
    groups[2] === 0 &&
    groups[3] === 0 &&
    groups[4] === 0 &&
    groups[5] === 0xffff
  );
}

/** The IPv4 address in the last two groups. */
export function ipv4Of(groups: Uint16Array): number {
  return (groups[6] ?? 0) * 65536 + (groups[7] ?? 0);
}

const scratch = new Uint16Array(8);

/** Whether `text` is an IPv4 or IPv6 address (an IPv6 zone such as `%eth0` allowed). */
export function isIpAddress(text: string): boolean {
  if (text.indexOf(':') < 0) return ipv4At(text, 0, text.length) >= 0;
  const zone = text.indexOf('%');
  return ipv6Into(text, 0, zone < 0 ? text.length : zone, scratch);
}
