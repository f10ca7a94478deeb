/** Headers that describe one connection, never forwarded (RFC 9110 7.6.1). */
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
 * Names the request path handles itself besides the hop-by-hop ones: `Expect` (the front end
 * answers it), Host and the forwarding headers it sets.
 */
const FORWARDING = ['expect', 'host', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host'];

/**
 * The lengths of the names each path handles: a name of another length is none of them, so only
 * names of these lengths are lowercased and looked up.
 */
const HOP_BY_HOP_LENGTHS = new Set([...HOP_BY_HOP].map((name) => name.length));
const HANDLED_LENGTHS = new Set([...HOP_BY_HOP, ...FORWARDING].map((name) => name.length));

/** What a `Connection` header says: `close`, and the other headers it names (RFC 9110 7.6.1). */
interface ConnectionOptions {
  closes: boolean;
  /** Names it lists beyond the hop-by-hop ones, lowercase; undefined when none. */
  listed: Set<string> | undefined;
}

/**
 * Adds what one `Connection` value says to `into`, made when first needed: the usual
 * `keep-alive` needs nothing, and is not split.
 */
function readConnection(
  value: string,
  into: ConnectionOptions | undefined,
): ConnectionOptions | undefined {
  if (value === 'keep-alive' || value === 'Keep-Alive') return into;
  const options = into ?? { closes: false, listed: undefined };
  if (value === 'close' || value === 'Close') {
    options.closes = true;
    return options;
  }
  for (const token of value.split(',')) {
    const name = token.trim().toLowerCase();
    if (name === 'close') options.closes = true;
    else if (name !== '' && !HOP_BY_HOP.has(name)) (options.listed ??= new Set()).add(name);
  }
  return options;
}

/** The names a request's `Connection` headers list; the length test skips most names cheaply. */
function connectionListed(rawHeaders: readonly string[]): Set<string> | undefined {
  let options: ConnectionOptions | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] ?? '';
    if (name.length !== 10 || name.toLowerCase() !== 'connection') continue;
    options = readConnection(rawHeaders[i + 1] ?? '', options);
  }
  return options?.listed;
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
  const listed = connectionListed(rawHeaders);
  const headers: string[] = [];
  let forwardedFor: string | undefined;
  let host: string | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] ?? '';
    const value = rawHeaders[i + 1] ?? '';
    if (!HANDLED_LENGTHS.has(name.length) && listed === undefined) {
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
export function clientResponseHead(rawHeaders: readonly (string | Buffer)[]): ClientResponseHead {
  const headers: string[] = [];
  let connection: ConnectionOptions | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = latin1(rawHeaders[i]);
    const value = latin1(rawHeaders[i + 1]);
    if (HOP_BY_HOP_LENGTHS.has(name.length)) {
      const lower = name.toLowerCase();
      if (HOP_BY_HOP.has(lower)) {
        if (lower === 'connection') connection = readConnection(value, connection);
        continue;
      }
    }
    headers.push(name, value);
  }
  const listed = connection?.listed;
  return {
    headers: listed ? withoutNamed(headers, listed) : headers,
    closes: connection?.closes ?? false,
  };
}

function latin1(raw: string | Buffer | undefined): string {
  return typeof raw === 'string' ? raw : (raw?.toString('latin1') ?? '');
}

/** The backend's response headers for the client, order and repeats kept, hop-by-hop removed. */
export function clientResponseHeaders(rawHeaders: readonly (string | Buffer)[]): string[] {
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
