// The floor of a Node reverse proxy: node:http in front, undici's raw dispatch to the backends
// (64 keep-alive connections each), round-robin per request, headers copied as they are, and
// after a WebSocket handshake the two sockets piped both ways without reading frames. No
// limits, health, retries, logs or events: what any Node proxy pays before doing its job.

import { createServer, request as httpRequest, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { Pool, type Dispatcher } from 'undici';
import { arg, listen, numArg } from '../lib/child-io';

const port = numArg('port', 0);
const backends = arg('backends', '').split(',').filter(Boolean);
if (backends.length === 0) throw new Error('--backends host:port,... is required');
const pools = backends.map((hostPort) => new Pool(`http://${hostPort}`, { connections: 64 }));
let next = 0;

function relay(res: import('node:http').ServerResponse): Dispatcher.DispatchHandler {
  return {
    onConnect: () => undefined,
    onError: () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    },
    onHeaders: (status, raw) => {
      const headers: string[] = [];
      for (let i = 0; i + 1 < raw.length; i += 2) {
        headers.push((raw[i] ?? '').toString(), (raw[i + 1] ?? '').toString());
      }
      res.writeHead(status, headers);
      return true;
    },
    onData: (chunk) => res.write(chunk),
    onComplete: () => res.end(),
  };
}

const server = createServer((req, res) => {
  const pool = pools[next++ % pools.length];
  if (!pool) return;
  pool.dispatch(
    {
      path: req.url ?? '/',
      method: req.method ?? 'GET',
      headers: req.headers,
      // A request without a body sends none (a stream body would go out chunked).
      body: req.headers['content-length'] || req.headers['transfer-encoding'] ? req : null,
    },
    relay(res),
  );
});

server.on('upgrade', (req: IncomingMessage, client: Socket, head: Buffer) => {
  client.on('error', () => client.destroy());
  const target = backends[next++ % backends.length] ?? '';
  const [host, portText] = target.split(':');
  const upstreamRequest = httpRequest({
    host,
    port: Number(portText),
    path: req.url,
    headers: req.headers,
  });
  upstreamRequest.on('error', () => client.destroy());
  upstreamRequest.on('upgrade', (response: IncomingMessage, upstream: Socket, upstreamHead) => {
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    const lines = [`HTTP/1.1 101 Switching Protocols`];
    for (let i = 0; i + 1 < response.rawHeaders.length; i += 2) {
      lines.push(`${response.rawHeaders[i]}: ${response.rawHeaders[i + 1]}`);
    }
    client.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (upstreamHead.length > 0) client.write(upstreamHead);
    if (head.length > 0) upstream.write(head);
    upstream.pipe(client);
    client.pipe(upstream);
  });
  upstreamRequest.end();
});

server.listen(port, '127.0.0.1');
listen(() => undefined);
