import { randomBytes } from 'node:crypto';
import { request, type IncomingMessage } from 'node:http';
import { createConnection, type NetConnectOpts, type Socket } from 'node:net';
import type { BackendTls } from '../config';
import { checkBackendAcceptance, type BackendAcceptance } from '../forwarding/wsHandshake';
import { connectTls } from './backendTls';

/** The handshake the proxy makes with a backend for one client. */
export interface BackendHandshake {
  /** `host:port`. */
  readonly address: string;
  /** The client's path and query. */
  readonly path: string;
  /** End-to-end headers and Host, without the handshake's own. */
  readonly headers: Readonly<Record<string, string>>;
  readonly protocols: readonly string[];
  /** The permessage-deflate offer to pass on, if any. */
  readonly extensions: string | undefined;
  readonly timeoutMs: number;
  /** Set for a `wss://` (or `https://`) server: the handshake goes over TLS. */
  readonly tls: BackendTls | undefined;
}

export type BackendHandshakeOutcome =
  /** A valid 101: the socket (paused, with an error handler) and the bytes that came after it. */
  | {
      readonly kind: 'accepted';
      readonly socket: Socket;
      readonly head: Buffer;
      readonly acceptance: BackendAcceptance;
    }
  /** An HTTP answer instead of a 101; the caller reads it and then destroys its socket. */
  | { readonly kind: 'answered'; readonly response: IncomingMessage }
  /** No connection, no answer within the timeout (code ETIMEDOUT), or an invalid 101. */
  | { readonly kind: 'failed'; readonly error: NodeJS.ErrnoException };

function hostAndPort(address: string): { host: string; port: number } {
  const url = new URL(`ws://${address}`);
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return { host, port: url.port === '' ? 80 : Number(url.port) };
}

const ignore = (): void => {};

/**
 * Opens a WebSocket handshake with a backend over a new connection (no agent: it becomes the
 * tunnel's) and reports its outcome once. Returns a function that abandons it.
 */
export function openBackendHandshake(
  handshake: BackendHandshake,
  done: (outcome: BackendHandshakeOutcome) => void,
): () => void {
  const key = randomBytes(16).toString('base64');
  const headers: Record<string, string> = {
    ...handshake.headers,
    connection: 'Upgrade',
    upgrade: 'websocket',
    'sec-websocket-version': '13',
    'sec-websocket-key': key,
  };
  if (handshake.protocols.length > 0) {
    headers['sec-websocket-protocol'] = handshake.protocols.join(', ');
  }
  if (handshake.extensions !== undefined) {
    headers['sec-websocket-extensions'] = handshake.extensions;
  }
  let reported = false;
  const report = (outcome: BackendHandshakeOutcome): void => {
    if (reported) return;
    reported = true;
    // An answer's body is still to come: the timeout covers it too.
    if (outcome.kind !== 'answered') clearTimeout(timer);
    done(outcome);
  };
  const fail = (error: NodeJS.ErrnoException): void => report({ kind: 'failed', error });
  const timer = setTimeout(() => {
    const error: NodeJS.ErrnoException = new Error('Opening handshake has timed out');
    error.code = 'ETIMEDOUT';
    fail(error);
    req.destroy();
  }, handshake.timeoutMs);
  const { host, port } = hostAndPort(handshake.address);
  const { tls } = handshake;
  // A connection of its own, as a WebSocket client makes it: an agent would pool it.
  const connect = (options: object): Socket =>
    tls ? connectTls(host, port, tls) : createConnection(options as NetConnectOpts);
  let req: ReturnType<typeof request>;
  try {
    req = request({
      host,
      port,
      path: handshake.path,
      headers,
      createConnection: connect,
    });
  } catch (error) {
    fail(error as NodeJS.ErrnoException);
    return ignore;
  }
  req.on('error', fail);
  req.on('response', (response: IncomingMessage) => {
    response.on('error', ignore);
    response.once('close', () => clearTimeout(timer));
    report({ kind: 'answered', response });
  });
  req.on('upgrade', (response: IncomingMessage, socket: Socket, head: Buffer) => {
    socket.on('error', ignore);
    const acceptance = checkBackendAcceptance(
      response.headers,
      key,
      handshake.protocols,
      handshake.extensions,
    );
    if (typeof acceptance === 'string') {
      socket.destroy();
      fail(new Error(acceptance));
      return;
    }
    socket.setNoDelay(true);
    report({ kind: 'accepted', socket, head, acceptance });
  });
  req.end();
  return () => {
    if (reported) return;
    reported = true;
    clearTimeout(timer);
    req.destroy();
  };
}
