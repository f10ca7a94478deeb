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

/**
 * Whether a header name of this length may be one the request path handles itself (hop-by-hop,
 * `Expect`, `Host`, the `X-Forwarded-*` ones): only those names are lowercased and looked up.
 */
function mayBeHandled(length: number): boolean {
  return (
    length === 2 ||
    length === 4 ||
    length === 6 ||
    length === 7 ||
    length === 10 ||
    (length >= 15 && length <= 17)
  );
}

/** Whether a header name of this length may be hop-by-hop (2, 7, 10, 16 or 17 characters). */
function mayBeHopByHop(length: number): boolean {
  return length === 2 || length === 7 || length === 10 || length === 16 || length === 17;
}

/** What a `Connection` header says: `close`, and the other headers it names (RFC 9110 7.6.1). */
interface ConnectionOptions {
  closes: boolean;
  /** Names it lists beyond the hop-by-hop ones, lowercase; undefined when none. */
  listed: Set<string> | undefined;
}

function readConnection(value: string, into: ConnectionOptions): void {
  // What nearly every backend and client sends, without splitting.
  if (value === 'keep-alive' || value === 'Keep-Alive') return;
  if (value === 'close' || value === 'Close') {
    into.closes = true;
    return;
  }
  for (const token of value.split(',')) {
    const name = token.trim().toLowerCase();
    if (name === 'close') into.closes = true;
    else if (name !== '' && !HOP_BY_HOP.has(name)) (into.listed ??= new Set()).add(name);
  }
}

/** The names a request's `Connection` headers list; the length test skips most names cheaply. */
function connectionOptions(rawHeaders: readonly string[]): ConnectionOptions {
  const options: ConnectionOptions = { closes: false, listed: undefined };
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] ?? '';
    if (name.length !== 10 || name.toLowerCase() !== 'connection') continue;
    readConnection(rawHeaders[i + 1] ?? '', options);
  }
  return options;
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
  const { listed } = connectionOptions(rawHeaders);
  const headers: string[] = [];
  let forwardedFor: string | undefined;
  let host: string | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] ?? '';
    const value = rawHeaders[i + 1] ?? '';
    if (!mayBeHandled(name.length) && listed === undefined) {
      headers.push(name, value);
      continue;
    }
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

export interface ClientResponseHead {
  /** The backend's headers for the client: order, case and repeats kept, hop-by-hop removed. */
  readonly headers: string[];
  /** The backend's `Connection` header says `close`: its connection is not to be reused. */
  readonly closes: boolean;
}

/**
 * The backend's raw response headers in one pass: what the client gets, and whether the backend
 * closes. Only names of a hop-by-hop length are lowercased; headers a `Connection` header names
 * are taken out afterwards, which almost no response needs.
 */
export function clientResponseHead(rawHeaders: readonly Buffer[]): ClientResponseHead {
  const headers: string[] = [];
  const connection: ConnectionOptions = { closes: false, listed: undefined };
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]?.toString('latin1') ?? '';
    const value = rawHeaders[i + 1]?.toString('latin1') ?? '';
    if (mayBeHopByHop(name.length)) {
      const lower = name.toLowerCase();
      if (HOP_BY_HOP.has(lower)) {
        if (lower === 'connection') readConnection(value, connection);
        continue;
      }
    }
    headers.push(name, value);
  }
  const { listed, closes } = connection;
  return { headers: listed ? withoutNamed(headers, listed) : headers, closes };
}

/** The backend's response headers for the client, order and repeats kept, hop-by-hop removed. */
export function clientResponseHeaders(rawHeaders: readonly Buffer[]): string[] {
  return clientResponseHead(rawHeaders).headers;
}

function withoutNamed(headers: readonly string[], names: ReadonlySet<string>): string[] {
  const kept: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i] ?? '';
    if (!names.has(name.toLowerCase())) kept.push(name, headers[i + 1] ?? '');
  }
  return kept;
}

/** `https` for a client connected over TLS (a TLSSocket is `encrypted`), else `http`. */
export function protoOf(socket: object): 'http' | 'https' {
  return 'encrypted' in socket && socket.encrypted === true ? 'https' : 'http';
}
