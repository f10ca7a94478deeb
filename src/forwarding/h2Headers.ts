import type { IncomingHttpHeaders } from 'node:http';

/**
 * An HTTP/2 request's headers as an HTTP/1.1 backend expects them (RFC 9113 8.3.1, 8.2.3):
 * pseudo-headers out, `Host` from `:authority` (a `host` header is used only without one; one
 * that names another authority makes the request malformed, see `conflictingHost`), the cookie
 * crumbs joined into one header with "; ", and a body with no declared length marked
 * `transfer-encoding: chunked` so that it is forwarded as one.
 */
export function http1RawHeaders(rawHeaders: readonly string[], unsizedBody: boolean): string[] {
  const headers: string[] = [];
  let authority: string | undefined;
  let host: string | undefined;
  let cookie: string | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] ?? '';
    const value = rawHeaders[i + 1] ?? '';
    if (name.startsWith(':')) {
      if (name === ':authority') authority = value;
      continue;
    }
    if (name === 'cookie') {
      cookie = cookie === undefined ? value : `${cookie}; ${value}`;
      continue;
    }
    if (name === 'host') {
      host ??= value;
      continue;
    }
    headers.push(name, value);
  }
  const hostValue = authority ?? host;
  if (hostValue !== undefined) headers.unshift('host', hostValue);
  if (cookie !== undefined) headers.push('cookie', cookie);
  if (unsizedBody) headers.push('transfer-encoding', 'chunked');
  return headers;
}

/** The same headers as a map, as Node gives an HTTP/1.1 request's (`cookie` already joined). */
export function http1HeaderMap(
  headers: IncomingHttpHeaders,
  unsizedBody: boolean,
): IncomingHttpHeaders {
  const map: IncomingHttpHeaders = {};
  for (const name of Object.keys(headers)) {
    if (!name.startsWith(':')) map[name] = headers[name];
  }
  const authority = headers[':authority'];
  if (typeof authority === 'string') map.host = authority;
  if (unsizedBody) map['transfer-encoding'] = 'chunked';
  return map;
}

/**
 * A `host` header naming another authority than `:authority`: RFC 9113 8.3.1 has the server
 * treat the request as malformed, so that no part of the proxy routes by one name and the
 * backend by another.
 */
export function conflictingHost(headers: IncomingHttpHeaders): boolean {
  const authority = headers[':authority'];
  const host = headers.host;
  return (
    typeof authority === 'string' &&
    typeof host === 'string' &&
    host.toLowerCase() !== authority.toLowerCase()
  );
}

/**
 * The head of an HTTP/1.1 response parsed into what an HTTP/2 stream answers with: the status
 * (101 becomes 200, the success of an extended CONNECT, RFC 8441 5) and the headers that are not
 * about the HTTP/1.1 connection or its upgrade.
 */
export interface ParsedHead {
  readonly status: number;
  readonly headers: Record<string, string | string[]>;
}

const NOT_FOR_H2 = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'sec-websocket-accept',
]);

/** Adds a header to an HTTP/2 header object: a repeated name becomes an array, order kept. */
export function appendHeader(
  headers: Record<string, string | string[] | number | undefined>,
  name: string,
  value: string,
): void {
  const previous = headers[name];
  if (previous === undefined) headers[name] = value;
  else if (Array.isArray(previous)) previous.push(value);
  else headers[name] = [String(previous), value];
}

/** Parses `HTTP/1.1 NNN text\r\nName: value\r\n...` (without the blank line). */
export function http2ResponseHead(head: string): ParsedHead | undefined {
  const lines = head.split('\r\n');
  const match = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(lines[0] ?? '');
  if (!match) return undefined;
  const code = Number(match[1]);
  const headers: Record<string, string | string[]> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (NOT_FOR_H2.has(name)) continue;
    appendHeader(headers, name, line.slice(colon + 1).trim());
  }
  return { status: code === 101 ? 200 : code, headers };
}
