import { parseCidrList, type CidrRange } from '../net/cidr';
import type { HeaderEdit, RateLimitKey } from './types';
import { HEADER_NAME, type Parsed } from './values';

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const fail = <T>(error: string): Parsed<T> => ({ ok: false, error });

/** Empty text is "not set"; anything else goes to `parse`. */
export function optional<T>(parse: (text: string) => Parsed<T>) {
  return (text: string): Parsed<T | undefined> => (text === '' ? ok(undefined) : parse(text));
}

/** Addresses and CIDR ranges separated by commas; every bad entry is its own problem. */
export function parseAddressList(text: string): Parsed<readonly CidrRange[]> {
  const { ranges, errors } = parseCidrList(text);
  const [first, ...more] = errors;
  return first === undefined ? ok(ranges) : { ok: false, error: first, moreErrors: more };
}

export interface Rate {
  readonly text: string;
  /** The number as written: also the default burst. */
  readonly amount: number;
  readonly tokensPerSecond: number;
}

/** `100/s` or `600/m`. */
export function parseRate(text: string): Parsed<Rate> {
  const match = /^(\d+)\s*\/\s*(s|m)$/.exec(text);
  if (!match)
    return fail(`"${text}" is not a rate (write requests per second or minute: 100/s, 600/m)`);
  const amount = Number(match[1]);
  if (amount === 0) return fail(`"${text}" allows nothing (leave rate_limit empty to turn it off)`);
  if (!Number.isSafeInteger(amount)) return fail(`"${text}" is too large`);
  return ok({ text, amount, tokensPerSecond: match[2] === 'm' ? amount / 60 : amount });
}

/** `ip` or `header:NAME`. */
export function parseRateLimitKey(text: string): Parsed<RateLimitKey> {
  if (text === 'ip') return ok({ source: 'ip' });
  const name = /^header:(.+)$/.exec(text)?.[1] ?? '';
  return HEADER_NAME.test(name)
    ? ok({ source: 'header', name: name.toLowerCase() })
    : fail(`"${text}" is not ip or header:NAME`);
}

/** A header name, lower-cased. */
export function parseHeaderName(text: string): Parsed<string> {
  return HEADER_NAME.test(text)
    ? ok(text.toLowerCase())
    : fail(`"${text}" is not a header name (letters, digits and !#$%&'*+-.^_\`|~)`);
}

/** What Node refuses in a header value. */
const INVALID_VALUE_CHARACTER = /[^\t\x20-\x7e\x80-\xff]/;

/** `Name: value`; nothing after the colon removes the header. */
export function parseHeaderLine(text: string): Parsed<HeaderEdit> {
  const colon = text.indexOf(':');
  if (colon < 0) return fail(`"${text}" is not Name: value (Name: alone removes the header)`);
  const name = parseHeaderName(text.slice(0, colon).trim());
  if (!name.ok) return name;
  const value = text.slice(colon + 1).trim();
  if (INVALID_VALUE_CHARACTER.test(value)) {
    return fail(`"${text}": the value has a character not allowed in a header`);
  }
  return ok([name.value, value]);
}

/** A path prefix such as `/api`: starts with `/`, does not end with one, no query. */
export function parseStripPrefix(text: string): Parsed<string> {
  if (!/^\/[^\s?#]*$/.test(text)) return fail(`"${text}" is not a path starting with /`);
  if (text.endsWith('/')) {
    return fail(`"${text}" ends with / (write /api for /api and /api/...; / strips nothing)`);
  }
  return ok(text);
}

/** A file path (the hook module, `tls_ca`): any text without a NUL; the file is read elsewhere. */
export function parseModulePath(text: string): Parsed<string> {
  return text.includes('\0') ? fail('has a NUL character') : ok(text);
}

/** `.` and `..` segments resolved; a relative result starts with `./` or `../`. */
function normalizePath(path: string): string {
  const absolute = path.startsWith('/');
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part !== '..') parts.push(part);
    else if (parts.length > 0 && parts[parts.length - 1] !== '..') parts.pop();
    else if (!absolute) parts.push(part);
  }
  const joined = parts.join('/');
  if (absolute) return `/${joined}`;
  return joined === '..' || joined.startsWith('../') ? joined : `./${joined}`;
}

/**
 * `written` resolved from the folder of `configFile` with plain `/` string logic. The result is
 * absolute, or relative to the working directory when the config file's path was relative
 * (where that path was taken from too), so the loader only needs `path.resolve`.
 */
export function resolveFrom(configFile: string, written: string): string {
  if (written.startsWith('/')) return normalizePath(written);
  const slash = configFile.lastIndexOf('/');
  return normalizePath(slash < 0 ? written : `${configFile.slice(0, slash + 1)}${written}`);
}
