import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';

export interface ReceivedRequest {
  readonly method: string;
  readonly url: string;
  readonly rawHeaders: readonly string[];
  readonly headers: IncomingMessage['headers'];
}

export type BackendHandler = (req: IncomingMessage, res: ServerResponse, name: string) => void;

export interface TestBackend {
  readonly name: string;
  readonly port: number;
  /** `127.0.0.1:port`, as a config file names it. */
  readonly address: string;
  readonly received: ReceivedRequest[];
  /** TCP connections: open now, most open at once, accepted in all. */
  readonly connections: { open: number; peak: number; total: number };
  /** Destroys every open connection, as a restarting backend would. */
  dropConnections(): void;
  close(): Promise<void>;
}

/** Answers JSON naming the backend, after reading the whole request body. */
export const answerWithName: BackendHandler = (req, res, name) => {
  req.resume();
  req.on('end', () => {
    const body = JSON.stringify({ backend: name, url: req.url });
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
  });
};

/** Reads the whole body and answers `{"bytes":N,"sha256":HEX}` of what arrived. */
export const answerWithDigest: BackendHandler = (req, res) => {
  const hash = createHash('sha256');
  let bytes = 0;
  req.on('data', (chunk: Buffer) => {
    hash.update(chunk);
    bytes += chunk.length;
  });
  req.on('end', () => res.end(JSON.stringify({ bytes, sha256: hash.digest('hex') })));
};

/** Answers `{"backend":NAME}` after `ms`, unless the client went away first. */
export const slowly =
  (ms: number): BackendHandler =>
  (req, res, name) => {
    req.resume();
    const timer = setTimeout(() => res.end(JSON.stringify({ backend: name })), ms);
    res.on('close', () => clearTimeout(timer));
  };

/** A key and certificate in PEM: the backend serves HTTPS with them. */
export interface BackendTlsFiles {
  readonly key: string;
  readonly cert: string;
}

/** A real HTTP (or, with `tls`, HTTPS) server on a loopback ephemeral port, with scripted behaviour. */
export async function startBackend(
  name: string,
  handler: BackendHandler = answerWithName,
  { tls }: { readonly tls?: BackendTlsFiles } = {},
): Promise<TestBackend> {
  const received: ReceivedRequest[] = [];
  const sockets = new Set<Socket>();
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    received.push({
      method: req.method ?? '',
      url: req.url ?? '',
      rawHeaders: req.rawHeaders,
      headers: req.headers,
    });
    handler(req, res, name);
  };
  const server: Server = tls ? createHttpsServer(tls, onRequest) : createServer(onRequest);
  const connections = { open: 0, peak: 0, total: 0 };
  server.on('connection', (socket) => {
    sockets.add(socket);
    connections.open++;
    connections.total++;
    connections.peak = Math.max(connections.peak, connections.open);
    socket.on('close', () => {
      sockets.delete(socket);
      connections.open--;
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    name,
    port,
    address: `127.0.0.1:${port}`,
    received,
    connections,
    dropConnections: () => {
      for (const socket of sockets) socket.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

/** A loopback port with nothing listening on it: connections are refused, and it is free to bind. */
export async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Sends raw bytes over a fresh loopback connection and resolves with everything read until close. */
export async function rawExchange(port: number, bytes: string, endAfterMs = 2000): Promise<string> {
  const { connect } = await import('node:net');
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
    const timer = setTimeout(() => socket.end(), endAfterMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
  });
}
