import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer } from 'ws';

export interface DemoBackend {
  readonly name: string;
  readonly port: number;
}

export interface DemoBackends {
  readonly backends: readonly DemoBackend[];
  close(): Promise<void>;
}

function answerJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** Streams the request body back with the request's content-type (and length, when known). */
function echoBody(req: IncomingMessage, res: ServerResponse): void {
  const length = req.headers['content-length'];
  res.writeHead(200, {
    'content-type': req.headers['content-type'] ?? 'application/octet-stream',
    ...(length === undefined ? {} : { 'content-length': length }),
  });
  req.pipe(res);
}

function demoHandler(name: string) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    req.on('error', () => res.destroy());
    if (req.method === 'POST' && new URL(req.url ?? '/', 'http://demo').pathname === '/echo') {
      echoBody(req, res);
      return;
    }
    req.resume();
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://demo');
      if (req.method === 'GET' && url.pathname === '/healthCheck') {
        answerJson(res, 200, { status: 200 });
        return;
      }
      answerJson(res, 200, {
        backend: name,
        method: req.method,
        path: url.pathname,
        query: url.search,
        headers: req.headers,
      });
    });
  };
}

async function startOne(name: string): Promise<{ backend: DemoBackend; server: Server }> {
  const server = createServer(demoHandler(name));
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const echo = new WebSocketServer({ server });
  echo.on('connection', (socket) => {
    socket.on('error', () => socket.terminate());
    socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
  });
  echo.on('error', () => undefined);
  server.on('close', () => {
    echo.close();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.on('close', () => sockets.forEach((socket) => socket.destroy()));
  return { backend: { name, port: (server.address() as AddressInfo).port }, server };
}

/**
 * Demo backends on loopback ephemeral ports, named server1, server2 … as in the demo config:
 * each answers JSON naming itself and echoing the method, path and headers; `POST /echo` sends
 * the request body back; `/healthCheck` answers `{"status":200}`; any path echoes WebSocket
 * messages.
 */
export async function startDemoBackends(count = 3): Promise<DemoBackends> {
  const started = await Promise.all(
    Array.from({ length: count }, (_, index) => startOne(`server${index + 1}`)),
  );
  return {
    backends: started.map(({ backend }) => backend),
    close: async () => {
      await Promise.all(
        started.map(
          ({ server }) =>
            new Promise<void>((resolve) => {
              server.close(() => resolve());
              server.closeAllConnections();
            }),
        ),
      );
    },
  };
}
