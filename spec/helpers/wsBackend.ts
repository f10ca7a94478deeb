import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { startChildServer, type ChildServer } from './childServer';

/** One upgrade request as the backend received it. */
export interface WsUpgradeRecord {
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  /** The subprotocols the handshake asked for, in order. */
  readonly protocols: readonly string[];
}

/** A plain HTTP answer to an upgrade request, instead of a 101. */
export interface PlainAnswer {
  readonly status: number;
  readonly statusText: string;
  readonly headers: readonly (readonly [string, string])[];
  readonly body: string;
}

export interface WsBackendOptions {
  /** What an accepted connection does; echo by default. */
  readonly onConnection?: (socket: WebSocket, req: IncomingMessage) => void;
  /** Picks the subprotocol from those requested; none by default. */
  readonly handleProtocols?: (protocols: readonly string[]) => string | false;
  /** Answer every upgrade with this plain HTTP response. */
  readonly reject?: PlainAnswer;
  /** Plain HTTP requests (health probes, the proxy's HTTP workers); 200 `{"status":200}` by default. */
  readonly onRequest?: (req: IncomingMessage, res: ServerResponse) => void;
  /** Whether pings are answered (the `ws` default, true). */
  readonly autoPong?: boolean;
  readonly perMessageDeflate?: boolean;
  /** Serve `wss://` (and HTTPS) with this key and certificate in PEM. */
  readonly tls?: { readonly key: string; readonly cert: string };
}

/** How a backend-side socket ended. */
export interface BackendClose {
  readonly code: number;
  readonly reason: string;
  readonly at: number;
}

export interface TestWsBackend {
  readonly name: string;
  readonly port: number;
  /** `127.0.0.1:port`, as a config file names it. */
  readonly address: string;
  readonly upgrades: WsUpgradeRecord[];
  /** URLs of plain HTTP requests. */
  readonly requests: string[];
  /** Backend-side sockets that are open now. */
  readonly open: Set<WebSocket>;
  readonly closes: BackendClose[];
  close(): Promise<void>;
}

/** Sends every message back with its type. */
export function echo(socket: WebSocket): void {
  socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
}

const answerHealthy = (req: IncomingMessage, res: ServerResponse): void => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"status":200}');
  });
};

function writePlainAnswer(socket: Duplex, answer: PlainAnswer): void {
  let head = `HTTP/1.1 ${answer.status} ${answer.statusText}\r\n`;
  for (const [name, value] of answer.headers) head += `${name}: ${value}\r\n`;
  head += `content-length: ${Buffer.byteLength(answer.body)}\r\nconnection: close\r\n\r\n`;
  socket.end(head + answer.body);
}

/**
 * An HTTP (with `tls`, HTTPS) server on a loopback ephemeral port that accepts WebSockets, with
 * scripted behaviour.
 */
export async function startWsBackend(
  name: string,
  options: WsBackendOptions = {},
): Promise<TestWsBackend> {
  const upgrades: WsUpgradeRecord[] = [];
  const requests: string[] = [];
  const open = new Set<WebSocket>();
  const closes: BackendClose[] = [];
  const sockets = new Set<Socket>();
  const onRequest = options.onRequest ?? answerHealthy;
  const answer = (req: IncomingMessage, res: ServerResponse) => {
    requests.push(req.url ?? '');
    onRequest(req, res);
  };
  const server = options.tls ? createHttpsServer(options.tls, answer) : createServer(answer);
  const choose = options.handleProtocols;
  const wss = new WebSocketServer({
    noServer: true,
    autoPong: options.autoPong ?? true,
    perMessageDeflate: options.perMessageDeflate ?? false,
    clientTracking: false,
    handleProtocols: (protocols) => (choose ? choose([...protocols]) : false),
  });
  const onConnection = options.onConnection ?? echo;
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const protocolHeader = req.headers['sec-websocket-protocol'];
    upgrades.push({
      url: req.url ?? '',
      headers: req.headers,
      protocols:
        protocolHeader === undefined
          ? []
          : protocolHeader
              .split(',')
              .map((protocol) => protocol.trim())
              .filter((protocol) => protocol !== ''),
    });
    if (options.reject) {
      writePlainAnswer(socket, options.reject);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      open.add(ws);
      ws.on('error', () => ws.terminate());
      ws.on('close', (code, reason) => {
        open.delete(ws);
        closes.push({ code, reason: reason.toString(), at: Date.now() });
      });
      onConnection(ws, req);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    name,
    port,
    address: `127.0.0.1:${port}`,
    upgrades,
    requests,
    open,
    closes,
    close: () =>
      new Promise<void>((resolve) => {
        for (const ws of open) ws.terminate();
        wss.close();
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

/** A WebSocket echo backend in its own process, which a test can SIGKILL. */
export type WsBackendProcess = ChildServer;

/**
 * Starts `node -e` with an HTTP server whose WebSockets greet with `greeting`, then echo. Plain
 * requests get 200 `{"status":200}`.
 */
export function startWsBackendProcess(
  greeting: string,
  withinMs = 10_000,
): Promise<WsBackendProcess> {
  const script = `
    const http = require('node:http');
    const { WebSocketServer } = require('ws');
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => res.end('{"status":200}'));
    });
    const wss = new WebSocketServer({ server });
    wss.on('connection', (ws) => {
      ws.on('error', () => ws.terminate());
      ws.send(${JSON.stringify(greeting)});
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    });
    server.listen(0, '127.0.0.1', () => console.log(server.address().port));
  `;
  return startChildServer(script, withinMs);
}
