import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { clientHandshakeRefusal, switchingProtocolsLines } from '../forwarding/wsHandshake';
import type { ProxyRequest } from '../hooks/types';
import { closeFrame } from '../net/wsControlFrames';
import type { BackendHandshakeOutcome } from './backendHandshake';
import { hookSwitchingProtocols } from './handshakeResponse';
import type { ExchangeHooks, RequestPlace } from './hookRunner';
import { writeRawResponse } from './rawResponse';

export interface ClientHandshakeContext {
  /** The name of the backend that accepted. */
  readonly backend: string;
  readonly hooks: ExchangeHooks | undefined;
  readonly clientAddress: (req: IncomingMessage) => string | undefined;
  /** The pool and route of the handshake, for response hooks when no request hooks ran. */
  readonly place: RequestPlace;
  /** The sticky cookie the 101 sets, if any. */
  readonly stickyCookie: () => string | undefined;
}

interface ClientUpgrade {
  readonly req: IncomingMessage;
  readonly socket: Duplex;
  readonly hooked: ProxyRequest | undefined;
}

/** Ends a connection once `last` is written, and lets go of it then. */
function endWith(socket: Socket, last: Buffer): void {
  socket.once('finish', () => socket.destroy());
  socket.end(last);
}

/**
 * Completes a client's handshake once its backend accepted: the 101 with the backend's
 * subprotocol and extensions, the sticky cookie and what response hooks add. A client that left
 * meanwhile has its backend told so with 1001; a handshake a WebSocket server would refuse (a bad
 * key or version) gets the same 400 as from the `ws` library, and the backend connection is
 * closed. Returns whether the tunnel may start.
 */
export function completeClientHandshake(
  upgrade: ClientUpgrade,
  accepted: Extract<BackendHandshakeOutcome, { kind: 'accepted' }>,
  context: ClientHandshakeContext,
): boolean {
  const { req, socket } = upgrade;
  const upstream = accepted.socket;
  if (socket.destroyed) {
    endWith(upstream, closeFrame(1001, 'client went away', true));
    return false;
  }
  const refusal = clientHandshakeRefusal(req.headers);
  if (refusal) {
    const { status, message, headers } = refusal;
    const body = Buffer.from(message);
    writeRawResponse(
      socket,
      status,
      STATUS_CODES[status] ?? '',
      ['Content-Type', 'text/html', ...headers],
      body,
    );
    upstream.destroy();
    return false;
  }
  if (!socket.readable || !socket.writable) {
    socket.destroy();
    upstream.destroy();
    return false;
  }
  const lines = switchingProtocolsLines(
    req.headers['sec-websocket-key'] ?? '',
    accepted.acceptance,
  );
  const cookie = context.stickyCookie();
  if (cookie !== undefined) lines.push(`Set-Cookie: ${cookie}`);
  const hooks = context.hooks;
  if (hooks?.response) {
    const request =
      upgrade.hooked ?? hooks.proxyRequest(req, true, context.clientAddress(req), context.place);
    hookSwitchingProtocols(lines, hooks, request, context.backend);
  }
  // What a WebSocket server does with the connection it takes over from the HTTP server.
  if ('setTimeout' in socket) (socket as Socket).setTimeout(0);
  socket.write(`${lines.join('\r\n')}\r\n\r\n`);
  return true;
}
