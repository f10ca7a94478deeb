import {
  ALGORITHMS,
  LOG_LEVELS,
  TLS_VERSIONS,
  STICKY_MODES,
  type Algorithm,
  type HashKey,
  type LogLevel,
  type StickyMode,
  type TlsVersion,
} from './types';

/** A parsed value, or the reason the text is not one. */
export type Parsed<T> =
  | { readonly ok: true; readonly value: T }
  | {
      readonly ok: false;
      readonly error: string;
      /** Further problems of the same value (a list's other bad entries), each reported alone. */
      readonly moreErrors?: readonly string[];
    };

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const fail = <T>(error: string): Parsed<T> => ({ ok: false, error });

export interface Address {
  readonly host: string;
  readonly port: number;
  /** Written with `https://` or `wss://`: the backend is reached over TLS. */
  readonly tls: boolean;
}

/** The schemes a server address may carry; either pool takes any of them. */
const SCHEMES: Readonly<Record<string, { readonly tls: boolean; readonly port: number }>> = {
  http: { tls: false, port: 80 },
  ws: { tls: false, port: 80 },
  https: { tls: true, port: 443 },
  wss: { tls: true, port: 443 },
};

const DURATION_UNITS_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};
const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/;

/** A plain number is seconds, as in the original; `500ms`, `2s`, `1m`, `1h` also work. */
export function parseDurationMs(text: string, minMs: number): Parsed<number> {
  const match = DURATION.exec(text);
  if (!match) {
    return fail(`"${text}" is not a duration (use seconds, or a number with ms, s, m or h)`);
  }
  const ms = Math.round(Number(match[1]) * (DURATION_UNITS_MS[match[2] ?? 's'] ?? 1000));
  if (ms < minMs) {
    return fail(minMs <= 0 ? `"${text}" must not be negative` : `"${text}" must be greater than 0`);
  }
  return ok(ms);
}

export function parseInteger(text: string, min: number, max = Infinity): Parsed<number> {
  if (!/^-?\d+$/.test(text)) {
    return fail(`"${text}" is not a whole number`);
  }
  const value = Number(text);
  if (value < min) {
    return fail(`${value} is too small (at least ${min})`);
  }
  if (value > max) {
    return fail(`${value} is too large (at most ${max})`);
  }
  if (!Number.isSafeInteger(value)) {
    return fail(`${text} is too large`);
  }
  return ok(value);
}

export function parsePort(text: string, min: number): Parsed<number> {
  if (!/^\d+$/.test(text)) {
    return fail(`"${text}" is not a port number`);
  }
  const port = Number(text);
  if (port < min || port > 65535) {
    return fail(`port ${text} is out of range (${min}-65535)`);
  }
  return ok(port);
}

const TRUE_WORDS = new Set(['true', 'yes', 'on', '1']);
const FALSE_WORDS = new Set(['false', 'no', 'off', '0']);

export function parseBoolean(text: string): Parsed<boolean> {
  const word = text.toLowerCase();
  if (TRUE_WORDS.has(word)) return ok(true);
  if (FALSE_WORDS.has(word)) return ok(false);
  return fail(`"${text}" is not true or false`);
}

const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;
const IPV6 = /^[0-9A-Fa-f:.]+(?:%[\w.-]+)?$/;

/** Syntax only: hostnames are resolved when connecting, never at validation time. */
export function parseHost(text: string): Parsed<string> {
  if (text === '') return fail('is empty');
  if (HOSTNAME.test(text)) return ok(text);
  if (text.includes(':') && IPV6.test(text)) return ok(text);
  return fail(`"${text}" is not a hostname or IP address`);
}

/**
 * `host:port`, `[v6]:port`, or either after a scheme: `http://` and `ws://` are plain,
 * `https://` and `wss://` TLS (with a scheme the port may be left out: 80 or 443).
 */
export function parseAddress(text: string): Parsed<Address> {
  const schemeMatch = /^([a-z][a-z0-9+.-]*):\/\/(.*?)\/?$/i.exec(text);
  const scheme = schemeMatch ? SCHEMES[(schemeMatch[1] ?? '').toLowerCase()] : undefined;
  if (schemeMatch && !scheme) {
    return fail(`"${text}": unknown scheme ${schemeMatch[1]}:// (use http, https, ws or wss)`);
  }
  const rest = schemeMatch?.[2] ?? text;
  const portless = scheme !== undefined && (/^\[[^\]]+\]$/.test(rest) || !rest.includes(':'));
  const hostPort = portless ? `${rest}:${scheme.port}` : rest;
  const bracketed = /^\[([^\]]+)\]:(.*)$/.exec(hostPort);
  const separator = hostPort.lastIndexOf(':');
  if (!bracketed && (separator <= 0 || hostPort.indexOf(':') !== separator)) {
    return fail(`"${text}" is not host:port`);
  }
  const hostText = bracketed ? (bracketed[1] ?? '') : hostPort.slice(0, separator);
  const portText = bracketed ? (bracketed[2] ?? '') : hostPort.slice(separator + 1);
  const host = parseHost(hostText);
  if (!host.ok) return fail(`"${text}": host ${host.error}`);
  const port = parsePort(portText, 1);
  if (!port.ok) return fail(`"${text}": ${port.error}`);
  return ok({ host: host.value, port: port.value, tls: scheme?.tls ?? false });
}

/** An SNI name: a hostname, never an IP address. */
export function parseServerName(text: string): Parsed<string> {
  const host = parseHost(text);
  if (!host.ok) return host;
  return /^[\d.]+$/.test(text) || text.includes(':')
    ? fail(`"${text}" is an IP address; a server name is a hostname`)
    : host;
}

function parseChoice<T extends string>(choices: readonly T[], what: string) {
  return (text: string): Parsed<T> =>
    (choices as readonly string[]).includes(text)
      ? ok(text as T)
      : fail(`unknown ${what} "${text}" (one of: ${choices.join(', ')})`);
}

export const parseAlgorithm: (text: string) => Parsed<Algorithm> = parseChoice(
  ALGORITHMS,
  'algorithm',
);
export const parseSticky: (text: string) => Parsed<StickyMode> = parseChoice(
  STICKY_MODES,
  'sticky mode',
);
export const parseLogLevel: (text: string) => Parsed<LogLevel> = parseChoice(
  LOG_LEVELS,
  'log level',
);

export const parseTlsVersion: (text: string) => Parsed<TlsVersion> = parseChoice(
  TLS_VERSIONS,
  'TLS version',
);

/** An absolute request path, as sent in a health probe. */
export function parsePath(text: string): Parsed<string> {
  return /^\/[^\s?#]*(\?[^\s#]*)?$/.test(text)
    ? ok(text)
    : fail(`"${text}" is not a path starting with /`);
}

export const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** A cookie name: an HTTP token (RFC 6265 section 4.1.1). */
export function parseCookieName(text: string): Parsed<string> {
  return HEADER_NAME.test(text) ? ok(text) : fail(`"${text}" is not a cookie name (a token)`);
}

/** A cookie's Path attribute: starts with /, no spaces, `;` or control characters. */
export function parseCookiePath(text: string): Parsed<string> {
  return /^\/[\x21-\x3a\x3c-\x7e]*$/.test(text)
    ? ok(text)
    : fail(`"${text}" is not a cookie path (starting with /, without spaces or ;)`);
}

/** `ip`, `path`, `header:NAME` or `cookie:NAME`. */
export function parseHashKey(text: string): Parsed<HashKey> {
  if (text === 'ip' || text === 'path') return ok({ source: text });
  const match = /^(header|cookie):(.+)$/.exec(text);
  const name = match?.[2] ?? '';
  if (!match || !HEADER_NAME.test(name)) {
    return fail(`"${text}" is not ip, path, header:NAME or cookie:NAME`);
  }
  const source = match[1] === 'header' ? 'header' : 'cookie';
  return ok({ source, name: source === 'header' ? name.toLowerCase() : name });
}

const SIZE_UNITS: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  kb: 1000,
  kib: 1024,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
};

/** Bytes: a plain number, or with a unit such as `64KiB` or `16MiB`. */
export function parseSize(text: string, min = 1): Parsed<number> {
  const match = /^(\d+)\s*([a-z]*)$/i.exec(text);
  const unit = SIZE_UNITS[(match?.[2] ?? '').toLowerCase()];
  if (!match || unit === undefined) {
    return fail(`"${text}" is not a size (bytes, or a number with KiB, MiB, GiB, KB, MB or GB)`);
  }
  const bytes = Number(match[1]) * unit;
  return bytes >= min ? ok(bytes) : fail(`"${text}" must be at least ${min} byte`);
}

/** Most worker processes `[frontend] workers` accepts. */
export const MAX_WORKERS_SETTING = 256;

/** `[frontend] workers`: a count of processes, or `auto` (resolved when the process starts). */
export function parseWorkers(text: string): Parsed<number | 'auto'> {
  if (text === 'auto') return { ok: true, value: 'auto' };
  const parsed = parseInteger(text, 1, MAX_WORKERS_SETTING);
  return parsed.ok ? parsed : fail(`${parsed.error}; or "auto"`);
}
