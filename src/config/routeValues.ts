import { parseHost, parseInteger, type Parsed } from './values';

const fail = (error: string): Parsed<never> => ({ ok: false, error });

/** A pool's name as written after `pool:`, and as routes name it. */
export const POOL_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

export function parsePoolName(text: string): Parsed<string> {
  return POOL_NAME.test(text)
    ? { ok: true, value: text }
    : fail(`"${text}" is not a pool name (letters, digits, "-" and "_")`);
}

/**
 * `host`: a comma list of exact names and `*.domain` wildcards, lower-cased; IPv6 literals in
 * brackets. Empty: every host.
 */
export function parseRouteHosts(text: string): Parsed<readonly string[]> {
  if (text === '') return { ok: true, value: [] };
  const hosts: string[] = [];
  const errors: string[] = [];
  for (const entry of text.split(',').map((part) => part.trim().toLowerCase())) {
    if (entry === '') {
      errors.push('has an empty host in its list');
      continue;
    }
    const bare = entry.startsWith('*.') ? entry.slice(2) : entry;
    const literal = bare.startsWith('[') && bare.endsWith(']') ? bare.slice(1, -1) : bare;
    const host = parseHost(literal);
    if (!host.ok || (literal !== bare && !literal.includes(':')) || bare.includes('*')) {
      errors.push(`"${entry}" is not a host name, an IP address or a *.domain wildcard`);
      continue;
    }
    hosts.push(entry);
  }
  const [first, ...more] = errors;
  return first === undefined
    ? { ok: true, value: hosts }
    : { ok: false, error: first, moreErrors: more };
}

/** `path_prefix`: starts with `/`; matched on whole segments, so a trailing `/` is dropped. */
export function parsePathPrefix(text: string): Parsed<string> {
  if (!text.startsWith('/')) return fail(`"${text}" does not start with /`);
  if (/[\s?#]/.test(text)) return fail(`"${text}" is a path prefix: no spaces, query or fragment`);
  const trimmed = text.replace(/\/+$/, '');
  return { ok: true, value: trimmed === '' ? '/' : trimmed };
}

/** `priority`: a whole number, higher first; negative ones come after routes without one. */
export function parsePriority(text: string): Parsed<number> {
  return parseInteger(text, -1_000_000, 1_000_000);
}
