import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import {
  Http2ServerRequest,
  Http2ServerResponse,
  constants,
  createSecureServer,
  type Http2SecureServer,
  type SecureServerOptions,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import type { ReadableOptions } from 'node:stream';
import {
  appendHeader,
  conflictingHost,
  http1HeaderMap,
  http1RawHeaders,
} from '../forwarding/h2Headers';

/**
 * An HTTP/2 request carrying the headers of its HTTP/1.1 equivalent, which is what the exchange,
 * hooks and the backend see. An extended CONNECT for a WebSocket (RFC 8441) reads as the
 * HTTP/1.1 upgrade it stands for, with a key of its own (the client's accept value is never
 * sent over HTTP/2).
 */
export class Http1ShapedRequest extends Http2ServerRequest {
  /** `:protocol` of an extended CONNECT (RFC 8441), e.g. `websocket`. */
  readonly extendedProtocol: string | undefined;
  /** A `host` header that names another authority than `:authority` (answered 400). */
  readonly malformed: boolean;

  constructor(
    stream: ServerHttp2Stream,
    headers: IncomingHttpHeaders,
    options: ReadableOptions,
    rawHeaders: readonly string[],
  ) {
    super(stream, headers, options, rawHeaders);
    const protocol = headers[':protocol'];
    this.extendedProtocol = typeof protocol === 'string' ? protocol : undefined;
    this.malformed = conflictingHost(headers);
    const connect = headers[':method'] === 'CONNECT';
    const unsizedBody =
      !connect && !stream.endAfterHeaders && headers['content-length'] === undefined;
    const raw = http1RawHeaders(rawHeaders, unsizedBody);
    const map = http1HeaderMap(headers, unsizedBody);
    if (connect && this.extendedProtocol === 'websocket') {
      const key = randomBytes(16).toString('base64');
      raw.push('upgrade', 'websocket', 'connection', 'Upgrade', 'sec-websocket-key', key);
      map.upgrade = 'websocket';
      map.connection = 'Upgrade';
      map['sec-websocket-key'] = key;
    }
    // Own properties in front of the prototype's getters, which Node's own code does not use.
    Object.defineProperty(this, 'rawHeaders', { value: raw, enumerable: true });
    Object.defineProperty(this, 'headers', { value: map, enumerable: true });
  }
}

/**
 * Header pairs as an HTTP/2 response takes them, repeats as arrays, without `connection`, which
 * the exchange adds while draining (a GOAWAY does that in HTTP/2).
 */
function http2Headers(pairs: readonly string[]): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {};
  for (let i = 0; i < pairs.length; i += 2) {
    const name = (pairs[i] ?? '').toLowerCase();
    if (name === 'connection') continue;
    appendHeader(headers, name, pairs[i + 1] ?? '');
  }
  return headers;
}

const isPairs = (headers: OutgoingHttpHeaders | readonly string[]): headers is readonly string[] =>
  Array.isArray(headers);

const isPairList = (
  trailers: OutgoingHttpHeaders | readonly [string, string][],
): trailers is readonly [string, string][] => Array.isArray(trailers);

/**
 * An HTTP/2 response taking what the exchange writes for HTTP/1.1: the reason phrase is dropped
 * (HTTP/2 has none), so is `connection`, `destroyed` says whether the stream is gone,
 * `writableFinished` whether the whole response was sent, and `destroy` resets the stream.
 */
export class Http2Response extends Http2ServerResponse<Http1ShapedRequest> {
  constructor(stream: ServerHttp2Stream) {
    super(stream);
    Object.defineProperty(this, 'destroyed', { get: () => this.stream.destroyed });
    // Node ends the writable side of a stream the client reset (RST_STREAM), so the stream's
    // own writableFinished turns true for a response cut short, with nothing answered at times:
    // `aborted` and the reset code tell them apart.
    Object.defineProperty(this, 'writableFinished', {
      get: () =>
        this.writableEnded &&
        this.stream.writableFinished &&
        !this.stream.aborted &&
        (this.stream.rstCode ?? constants.NGHTTP2_NO_ERROR) === constants.NGHTTP2_NO_ERROR,
    });
    // A response complete before the request (a refused or stalled upload): the rest of the body
    // is not wanted, and the stream would stay open as long as the client sends (RFC 9113 8.1).
    stream.once('finish', () => {
      if (!stream.closed && stream.state.remoteClose === 0)
        stream.close(constants.NGHTTP2_NO_ERROR);
    });
  }

  override writeHead(
    statusCode: number,
    statusOrHeaders?: string | OutgoingHttpHeaders | readonly string[],
    headers?: OutgoingHttpHeaders | readonly string[],
  ): this {
    const given = typeof statusOrHeaders === 'string' ? headers : statusOrHeaders;
    if (given === undefined) return super.writeHead(statusCode);
    return super.writeHead(statusCode, isPairs(given) ? http2Headers(given) : given);
  }

  /**
   * A response cut short. Node resets a stream destroyed without an error with NO_ERROR, which a
   * client takes for the end of a complete response: INTERNAL_ERROR says it is not one.
   */
  override destroy(error?: Error): this {
    if (!this.stream.closed) this.stream.close(constants.NGHTTP2_INTERNAL_ERROR);
    super.destroy(error);
    return this;
  }

  /** Trailers come as `[name, value]` pairs, as an HTTP/1.1 response takes them. */
  override addTrailers(trailers: OutgoingHttpHeaders | readonly [string, string][]): void {
    super.addTrailers(isPairList(trailers) ? http2Headers(trailers.flat()) : trailers);
  }
}

export interface Http2Settings {
  /** SETTINGS_MAX_CONCURRENT_STREAMS per connection. */
  readonly maxConcurrentStreams: number;
  /**
   * A connection with no open stream this long is closed (GOAWAY), like an idle keep-alive; one
   * with open streams gets a PING and is closed unless it answers.
   */
  readonly idleTimeoutMs: number;
  /**
   * A connection closed by the proxy for a protocol error or abuse, with the client's address
   * (read when it connected: the session has let go of its socket by then).
   */
  readonly onSessionError: (
    error: NodeJS.ErrnoException,
    remoteAddress: string | undefined,
  ) => void;
}

/** One HTTP/2 connection: how many streams are open on it, whether a PING is out. */
class SessionEntry {
  open = 0;
  probing = false;
  constructor(readonly session: ServerHttp2Session) {}
}

/** Longest wait for the answer to the PING sent to an idle connection with open streams. */
const MAX_PING_WAIT_MS = 10_000;

/** The HTTP/2 connections of a front door, for draining and for closing idle ones. */
export class Http2Sessions {
  private readonly sessions = new Set<SessionEntry>();

  constructor(private readonly idleTimeoutMs: number) {}

  add(session: ServerHttp2Session): void {
    const entry = new SessionEntry(session);
    this.sessions.add(entry);
    session.on('stream', (stream: ServerHttp2Stream) => {
      entry.open++;
      stream.once('close', () => entry.open--);
    });
    // A listener of its own: the callback form listens once, and a connection whose first timeout
    // found a stream open would never be closed for idleness after it.
    session.setTimeout(this.idleTimeoutMs);
    session.on('timeout', () => {
      if (entry.open === 0) session.close();
      else this.probe(entry);
    });
    session.once('close', () => this.sessions.delete(entry));
  }

  /**
   * Open streams but nothing read or written for the idle time: a long request, or a connection
   * that is dead. After a protocol error nghttp2 sends GOAWAY and Node stops reading the socket
   * without telling JavaScript, so its streams never close, not even when the client goes. A
   * client that answers a PING keeps its connection; one that does not is disconnected.
   */
  private probe(entry: SessionEntry): void {
    const { session } = entry;
    if (entry.probing || session.destroyed) return;
    entry.probing = true;
    const timer = setTimeout(
      () => session.destroy(),
      Math.min(this.idleTimeoutMs, MAX_PING_WAIT_MS),
    );
    timer.unref();
    // Answered, or cancelled with an error when the session ends first.
    session.ping((error) => {
      clearTimeout(timer);
      entry.probing = false;
      if (error) session.destroy();
    });
  }

  /** GOAWAY to every connection: streams under way complete, new ones go elsewhere. */
  closeIdle(): void {
    for (const { session } of this.sessions) if (!session.closed) session.close();
  }

  closeAll(): void {
    for (const { session } of this.sessions) session.destroy();
  }

  get size(): number {
    return this.sessions.size;
  }
}

/**
 * A TLS server offering `h2` and `http/1.1` by ALPN on one port. HTTP/2 requests arrive as
 * `Http1ShapedRequest` and `Http2Response`; HTTP/1.1 connections are served by Node's HTTP/1.1
 * server code as on the `https` front door.
 */
export function createHttp2Server(
  tls: SecureServerOptions,
  settings: Http2Settings,
): { server: Http2SecureServer; sessions: Http2Sessions } {
  const server = createSecureServer({
    ...tls,
    allowHTTP1: true,
    Http2ServerRequest: Http1ShapedRequest,
    Http2ServerResponse: Http2Response,
    settings: {
      maxConcurrentStreams: settings.maxConcurrentStreams,
      enableConnectProtocol: true,
    },
  });
  const sessions = new Http2Sessions(settings.idleTimeoutMs);
  const addresses = new WeakMap<ServerHttp2Session, string | undefined>();
  server.on('session', (session: ServerHttp2Session) => {
    addresses.set(session, session.socket.remoteAddress);
    sessions.add(session);
  });
  server.on('sessionError', (error: NodeJS.ErrnoException, session: ServerHttp2Session) =>
    settings.onSessionError(error, addresses.get(session)),
  );
  return { server, sessions };
}
