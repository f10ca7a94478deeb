import {
  createServer,
  ServerResponse,
  type IncomingMessage,
  type Server,
  type ServerOptions,
} from 'node:http';
import {
  createServer as createTlsServer,
  type Server as TlsServer,
  type ServerOptions as TlsOptions,
} from 'node:https';
import type { Duplex } from 'node:stream';
import { isWebSocketUpgrade } from '../forwarding/upgrade';
import type { Socket } from 'node:net';
import type { ProxyEvent } from '../events';
import {
  BAD_REQUEST,
  HEADER_TIMEOUT,
  HEADERS_TOO_LARGE,
  type ProxyAnswer,
} from '../forwarding/failures';
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

export type FrontDoor = Server | TlsServer;

/**
 * The client-facing HTTP server, over TLS when `tls` is given. Requests that the parser rejects
 * never reach a backend: they get a JSON 400 (431 for oversized headers, 408 for slow ones) and
 * the connection is closed. A failed TLS handshake (plain HTTP, garbage, a client that stalls
 * past the header timeout) closes that connection and is reported as a `client-error`.
 */
export function createFrontend(handlers: FrontendHandlers, tls?: TlsOptions): FrontDoor {
  const options: ServerOptions = {
    // Uploads may legitimately take long; upstream phases have their own timeouts.
    requestTimeout: 0,
    keepAliveTimeout: 75_000,
    headersTimeout: handlers.headerTimeoutMs,
    // Node checks header deadlines on this period; keep it well under the timeout.
    connectionsCheckingInterval: Math.max(50, Math.min(1000, handlers.headerTimeoutMs / 4)),
  };
  const server: FrontDoor = tls ? createTlsServer({ ...options, ...tls }) : createServer(options);
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
  server.on('request', handlers.onRequest);
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
