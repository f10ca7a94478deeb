import {
  createServer,
  Server,
  ServerResponse,
  type IncomingMessage,
  type ServerOptions,
} from 'node:http';
import {
  createServer as createTlsServer,
  type Server as TlsServer,
  type ServerOptions as TlsOptions,
} from 'node:https';
import type { Http2SecureServer } from 'node:http2';
import type { Duplex } from 'node:stream';
import { isWebSocketUpgrade } from '../forwarding/upgrade';
import type { Socket } from 'node:net';
import type { ProxyEvent } from '../events';
import {
  BAD_REQUEST,
  HEADER_TIMEOUT,
  HEADERS_TOO_LARGE,
  METHOD_NOT_ALLOWED,
  type ProxyAnswer,
} from '../forwarding/failures';
import { ExtendedConnectSocket } from './extendedConnect';
import {
  createHttp2Server,
  Http1ShapedRequest,
  type Http2Response,
  type Http2Sessions,
} from './http2Front';
import { answer } from './proxyAnswer';
import { rejectRaw } from './rawResponse';

type ClientErrorEvent = Extract<ProxyEvent, { type: 'client-error' }>;

const CLIENT_ERROR_ANSWERS: Readonly<Record<string, ProxyAnswer>> = {
  HPE_HEADER_OVERFLOW: HEADERS_TOO_LARGE,
  ERR_HTTP_REQUEST_TIMEOUT: HEADER_TIMEOUT,
  ERR_HTTP_HEADERS_TIMEOUT: HEADER_TIMEOUT,
};

export interface FrontendHandlers {
  /** Time a client has to send complete request headers. */
  readonly headerTimeoutMs: number;
  readonly onRequest: (req: IncomingMessage, res: ServerResponse) => void;
  readonly onClientError: (event: ClientErrorEvent) => void;
  /** A WebSocket opening handshake; the socket is the client's raw connection. */
  readonly onUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
}

/**
 * Node hands every request with `Connection: upgrade` to the upgrade handler. One that is not a
 * WebSocket handshake (h2c, say) is served as the plain request it also is, ignoring the
 * Upgrade header as RFC 9110 allows, on a connection that closes after the response.
 */
function serveAsPlainRequest(
  req: IncomingMessage,
  socket: Duplex,
  onRequest: FrontendHandlers['onRequest'],
): void {
  const hasBody =
    (req.headers['content-length'] ?? '0') !== '0' ||
    req.headers['transfer-encoding'] !== undefined;
  if (hasBody) {
    rejectRaw(socket, BAD_REQUEST);
    return;
  }
  const res = new ServerResponse(req);
  res.shouldKeepAlive = false;
  res.assignSocket(socket as Socket);
  res.on('finish', () => {
    res.detachSocket(socket as Socket);
    socket.end();
  });
  onRequest(req, res);
}

export type FrontDoor = Server | TlsServer | Http2SecureServer;

/** HTTP/2 on the front door: ALPN `h2` beside `http/1.1`. */
export interface FrontendHttp2 {
  readonly maxConcurrentStreams: number;
}

/** How long an idle keep-alive connection (an HTTP/2 one without streams too) is kept. */
const KEEP_ALIVE_TIMEOUT_MS = 75_000;

/** The HTTP/2 connections of the front doors that speak it. */
const http2Sessions = new WeakMap<FrontDoor, Http2Sessions>();

/** Closes idle connections; HTTP/2 ones get a GOAWAY and finish the streams under way. */
export function closeIdleConnections(door: FrontDoor): void {
  // An HTTP/2 front door has it too, for its HTTP/1.1 connections.
  (door as Server).closeIdleConnections();
  http2Sessions.get(door)?.closeIdle();
}

/** A reload's new header_timeout for the front door's HTTP/1.1 connections. */
export function setHeaderTimeout(door: FrontDoor, timeoutMs: number): void {
  (door as Server).headersTimeout = timeoutMs;
}

/** Closes every connection, busy or not. */
export function closeAllConnections(door: FrontDoor): void {
  const sessions = http2Sessions.get(door);
  if (!sessions) {
    (door as Server).closeAllConnections();
    return;
  }
  sessions.closeAll();
  // Node's HTTP/1.1 code serves the connections that chose http/1.1, tracked from `listening` on.
  if (door.listening || sessions.size > 0) {
    try {
      Server.prototype.closeAllConnections.call(door);
    } catch {
      // A front door that never listened has no HTTP/1.1 connection to close.
    }
  }
}
/**
 * The client-facing HTTP server, over TLS when `tls` is given. Requests that the parser rejects
 * never reach a backend: they get a JSON 400 (431 for oversized headers, 408 for slow ones) and
 * the connection is closed. A failed TLS handshake (plain HTTP, garbage, a client that stalls
 * past the header timeout) closes that connection and is reported as a `client-error`.
 */
export function createFrontend(
  handlers: FrontendHandlers,
  tls?: TlsOptions,
  http2?: FrontendHttp2,
): FrontDoor {
  const options = {
    // Uploads may legitimately take long; upstream phases have their own timeouts.
    requestTimeout: 0,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    headersTimeout: handlers.headerTimeoutMs,
    // Node checks header deadlines on this period; keep it well under the timeout.
    connectionsCheckingInterval: Math.max(50, Math.min(1000, handlers.headerTimeoutMs / 4)),
  } satisfies ServerOptions;
  const server: FrontDoor =
    tls && http2
      ? createHttp2Door(handlers, tls, http2, options)
      : tls
        ? createTlsServer({ ...options, ...tls })
        : createServer(options);
  if (tls) {
    server.on('tlsClientError', (error: NodeJS.ErrnoException, socket: Socket) => {
      handlers.onClientError({
        type: 'client-error',
        code: error.code ?? 'UNKNOWN',
        message: error.message,
        remoteAddress: socket.remoteAddress,
        tls: true,
      });
      socket.destroy();
    });
  }
  if (!(tls && http2)) server.on('request', handlers.onRequest);
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    if (isWebSocketUpgrade(req)) handlers.onUpgrade(req, socket, head);
    else serveAsPlainRequest(req, socket, handlers.onRequest);
  });
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    const code = error.code ?? 'UNKNOWN';
    const answered = code !== 'ECONNRESET' && socket.writable;
    const reply = CLIENT_ERROR_ANSWERS[code] ?? BAD_REQUEST;
    handlers.onClientError({
      type: 'client-error',
      code,
      message: error.message,
      remoteAddress: socket.remoteAddress,
      ...(answered && reply.reason !== undefined ? { rejected: reply.reason } : {}),
    });
    if (!answered) {
      socket.destroy();
      return;
    }
    rejectRaw(socket, reply);
  });
  return server;
}

/**
 * The HTTP/2 front door. Node's HTTP/1.1 code serves the connections that chose http/1.1, with
 * the same timeouts as the `https` front door (set as properties: this server reads them so).
 * HTTP/2 requests reach `onRequest` shaped as HTTP/1.1 ones; an extended CONNECT for a WebSocket
 * reaches `onUpgrade` with the stream as its connection; another CONNECT is answered 405.
 */
function createHttp2Door(
  handlers: FrontendHandlers,
  tls: TlsOptions,
  http2: FrontendHttp2,
  options: Required<
    Pick<
      ServerOptions,
      'requestTimeout' | 'keepAliveTimeout' | 'headersTimeout' | 'connectionsCheckingInterval'
    >
  >,
): Http2SecureServer {
  const { server, sessions } = createHttp2Server(tls, {
    maxConcurrentStreams: http2.maxConcurrentStreams,
    idleTimeoutMs: KEEP_ALIVE_TIMEOUT_MS,
    onSessionError: (error: NodeJS.ErrnoException, remoteAddress: string | undefined) =>
      handlers.onClientError({
        type: 'client-error',
        code: error.code ?? 'UNKNOWN',
        message: error.message,
        remoteAddress,
        http2: true,
      }),
  });
  Object.assign(server, options, { requireHostHeader: true });
  // Node's own handler would answer TLS failures a second time, as 'clientError'.
  server.removeAllListeners('tlsClientError');
  http2Sessions.set(server, sessions);
  /** A request whose `host` names another authority than `:authority` gets 400 (RFC 9113 8.3.1). */
  const refusedAsMalformed = (req: object, res: Http2Response | ServerResponse): boolean => {
    if (!(req instanceof Http1ShapedRequest) || !req.malformed) return false;
    handlers.onClientError({
      type: 'client-error',
      code: 'ERR_HTTP2_HOST_MISMATCH',
      message: 'the host header names another authority than :authority',
      remoteAddress: req.socket.remoteAddress,
      http2: true,
      rejected: BAD_REQUEST.reason,
    });
    answer(res as ServerResponse, BAD_REQUEST);
    return true;
  };
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (!refusedAsMalformed(req, res)) handlers.onRequest(req, res);
  });
  server.on('connect', (req: object, second: Duplex | Http2Response) => {
    if (!(req instanceof Http1ShapedRequest)) {
      // HTTP/1.1 CONNECT: rxproxy is no forward proxy (as on the plain front door).
      (second as Duplex).destroy();
      return;
    }
    const res = second as Http2Response;
    if (refusedAsMalformed(req, res)) return;
    if (req.extendedProtocol !== 'websocket') {
      answer(res as unknown as ServerResponse, METHOD_NOT_ALLOWED);
      return;
    }
    const socket = new ExtendedConnectSocket(res.stream);
    socket.on('error', () => socket.destroy());
    // The request reads as the HTTP/1.1 upgrade it stands for (see Http1ShapedRequest).
    handlers.onUpgrade(req as unknown as IncomingMessage, socket, Buffer.alloc(0));
  });
  return server;
}
