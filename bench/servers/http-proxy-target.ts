// node-http-proxy in front of the backends: round-robin per request and per WebSocket upgrade,
// upstream keep-alive through one http.Agent (keepAlive, maxSockets 64 per backend). With
// --tls-cert and --tls-key it listens with HTTPS (HTTP/1.1).

import { readFileSync } from 'node:fs';
import { Agent, createServer, type RequestListener } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { Socket } from 'node:net';
import httpProxy from 'http-proxy';
import { arg, listen, numArg } from '../lib/child-io';

const port = numArg('port', 0);
const targets = arg('backends', '')
  .split(',')
  .filter(Boolean)
  .map((hostPort) => `http://${hostPort}`);
if (targets.length === 0) throw new Error('--backends host:port,... is required');

const agent = new Agent({ keepAlive: true, maxSockets: 64, maxFreeSockets: 64, timeout: 60_000 });
const proxy = httpProxy.createProxyServer({ agent, ws: true });
let next = 0;
const pick = (): string => targets[next++ % targets.length] ?? '';

proxy.on('error', (_error, _req, res) => {
  if ('writeHead' in res) {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
    res.end('{"error":"bad gateway"}');
  } else {
    res.destroy();
  }
});

const handle: RequestListener = (req, res) => proxy.web(req, res, { target: pick() });
const cert = arg('tls-cert', '');
const key = arg('tls-key', '');
const server = cert
  ? createTlsServer({ cert: readFileSync(cert), key: readFileSync(key) }, handle)
  : createServer(handle);
server.on('upgrade', (req, socket: Socket, head: Buffer) => {
  socket.on('error', () => socket.destroy());
  proxy.ws(req, socket, head, { target: pick() });
});
server.listen(port, '127.0.0.1');
listen(() => undefined);
