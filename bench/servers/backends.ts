// The benchmark's backends: N keep-alive HTTP servers on 127.0.0.1 in one process, each
// answering every request with a ~100-byte JSON body and echoing WebSocket messages on the same
// port. Prints {"ports":[...]} once listening; "stats" on stdin prints and resets the request
// counts per backend.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { listen, numArg, report } from '../lib/child-io';

const count = numArg('count', 2);
const counts: number[] = new Array<number>(count).fill(0);
const servers: Server[] = [];
const wsServers: WebSocketServer[] = [];

function body(index: number): Buffer {
  // Padded so that every backend's answer is exactly 100 bytes.
  const base = { backend: `b${index + 1}`, ok: true, message: 'hello from the benchmark backend' };
  const pad = 100 - JSON.stringify({ ...base, pad: '' }).length;
  return Buffer.from(JSON.stringify({ ...base, pad: 'x'.repeat(Math.max(0, pad)) }));
}

async function start(index: number): Promise<number> {
  const payload = body(index);
  const server = createServer({ headersTimeout: 125_000, requestTimeout: 0 }, (req, res) => {
    counts[index] = (counts[index] ?? 0) + 1;
    req.resume();
    req.on('end', () => {
      res.writeHead(200, {
        'content-type': 'application/json',
        'content-length': payload.length,
      });
      res.end(payload);
    });
  });
  // Above every proxy's upstream idle timeout (60 s at most), so no proxy ever sends a request
  // on a connection the backend is closing.
  server.keepAliveTimeout = 120_000;
  const wss = new WebSocketServer({ server, perMessageDeflate: false });
  wss.on('connection', (socket) => {
    socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
    socket.on('error', () => socket.terminate());
  });
  servers.push(server);
  wsServers.push(wss);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return (server.address() as AddressInfo).port;
}

async function main(): Promise<void> {
  const ports: number[] = [];
  for (let i = 0; i < count; i++) ports.push(await start(i));
  listen(
    (line) => {
      if (line === 'stats') {
        report({ counts: [...counts] });
        counts.fill(0);
      }
    },
    () => {
      for (const wss of wsServers) for (const client of wss.clients) client.terminate();
      for (const server of servers) server.closeAllConnections();
      process.exit(0);
    },
  );
  report({ ports });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
