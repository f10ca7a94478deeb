/** Headers that describe one connection, never forwarded (RFC 9110 7.6.1), plus `Expect`, which the front end answers itself. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

function addTokens(tokens: Set<string> | undefined, value: string): Set<string> {
  const set = tokens ?? new Set<string>();
  for (const token of value.split(',')) {
    const name = token.trim().toLowerCase();
    if (name !== '') set.add(name);
  }
  return set;
}

/** The header names a `Connection` header lists; the length test skips most names cheaply. */
function connectionTokens(rawHeaders: readonly string[]): Set<string> | undefined {
  let tokens: Set<string> | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] ?? '';
    if (name.length !== 10 || name.toLowerCase() !== 'connection') continue;
    tokens = addTokens(tokens, rawHeaders[i + 1] ?? '');
  }
  return tokens;
}

export interface ForwardedFor {
  readonly clientAddress: string | undefined;
  readonly proto: 'http' | 'https';
  /** Sent as Host instead of the client's (preserve_host=false). */
  readonly hostOverride?: string;
}

/**
 * The client's headers as the backend should see them, order and repeats kept: hop-by-hop
 * headers and those named by `Connection` removed, `X-Forwarded-For` appended to,
 * `X-Forwarded-Proto` and `X-Forwarded-Host` set. Host is kept as the client sent it.
 */
export function upstreamRequestHeaders(
  rawHeaders: readonly string[],
  forwarded: ForwardedFor,
): string[] {
  const listed = connectionTokens(rawHeaders);
  const headers: string[] = [];
  let forwardedFor: string | undefined;
  let host: string | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] ?? '';
    const value = rawHeaders[i + 1] ?? '';
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || lower === 'expect' || listed?.has(lower)) continue;
    if (lower === 'x-forwarded-for') {
      forwardedFor = forwardedFor === undefined ? value : `${forwardedFor}, ${value}`;
      continue;
    }
    if (lower === 'x-forwarded-proto' || lower === 'x-forwarded-host') continue;
    if (lower === 'host') {
      host = value;
      headers.push(name, forwarded.hostOverride ?? value);
      continue;
    }
    headers.push(name, value);
  }
  const client = forwarded.clientAddress ?? 'unknown';
  headers.push(
    'x-forwarded-for',
    forwardedFor === undefined ? client : `${forwardedFor}, ${client}`,
  );
  headers.push('x-forwarded-proto', forwarded.proto);
  if (host !== undefined) {
    headers.push('x-forwarded-host', host);
  } else if (forwarded.hostOverride !== undefined) {
    headers.push('host', forwarded.hostOverride);
  }
  return headers;
}

/** The backend's response headers for the client, order and repeats kept, hop-by-hop removed. */
export function clientResponseHeaders(rawHeaders: readonly Buffer[]): string[] {
  let listed: Set<string> | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i];
    if (name?.length !== 10 || name.toString('latin1').toLowerCase() !== 'connection') continue;
    listed = addTokens(listed, rawHeaders[i + 1]?.toString('latin1') ?? '');
  }
  const headers: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]?.toString('latin1') ?? '';
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || listed?.has(lower)) continue;
    headers.push(name, rawHeaders[i + 1]?.toString('latin1') ?? '');
  }
  return headers;
}

/** `https` for a client connected over TLS (a TLSSocket is `encrypted`), else `http`. */
export function protoOf(socket: object): 'http' | 'https' {
  return 'encrypted' in socket && socket.encrypted === true ? 'https' : 'http';
}
