// How much of a Node proxy's CPU per request is node:http and undici: a proxy on raw sockets
// behind (`--front http`: node:http in front, or `--front raw`: raw sockets both sides),
// keep-alive connections to the backends, round-robin per request. It forwards only what the
// benchmark sends: requests without a body, answers with Content-Length. Not a proxy anyone
// should run: no chunked bodies, no validation, no limits, no errors answered.

import { createServer as createHttpServer, type ServerResponse } from 'node:http';
import { connect, createServer, type Socket } from 'node:net';
import { arg, listen, numArg } from '../lib/child-io';

const port = numArg('port', 0);
const front = arg('front', 'raw');
const backends = arg('backends', '')
  .split(',')
  .filter(Boolean)
  .map((hostPort) => {
    const [host = '127.0.0.1', portText = '0'] = hostPort.split(':');
    return { host, port: Number(portText), idle: [] as Socket[] };
  });
if (backends.length === 0) throw new Error('--backends host:port,... is required');
let next = 0;

const HEAD_END = Buffer.from('\r\n\r\n');

/** A kept-alive connection to the next backend in turn, or a new one. */
function upstream(use: (socket: Socket, release: () => void) => void): void {
  const backend = backends[next++ % backends.length];
  if (!backend) return;
  const release = (socket: Socket) => () => backend.idle.push(socket);
  const idle = backend.idle.pop();
  if (idle) {
    use(idle, release(idle));
    return;
  }
  const socket = connect(backend.port, backend.host, () => use(socket, release(socket)));
  socket.setNoDelay(true);
  socket.on('error', () => socket.destroy());
}

interface Answer {
  /** What arrived so far: the head and the start of the body. */
  received: Buffer;
  status: number;
  /** Header names and values, without Connection and Keep-Alive. */
  headers: string[];
}

/**
 * Sends `head` on a backend connection and hands the answer's head, then its body chunks, to
 * the callbacks; the connection goes back to the idle list once Content-Length bytes came.
 */
function exchange(
  head: string | Buffer,
  onHead: (answer: Answer, body: Buffer, last: boolean) => void,
  onBody: (chunk: Buffer, last: boolean) => void,
): void {
  upstream((socket, release) => {
    let pending: Buffer | undefined;
    let remaining = -1;
    const onData = (data: Buffer): void => {
      if (remaining < 0) {
        pending = pending ? Buffer.concat([pending, data]) : data;
        const end = pending.indexOf(HEAD_END);
        if (end < 0) return;
        const lines = pending.toString('latin1', 0, end).split('\r\n');
        const headers: string[] = [];
        let length = 0;
        for (const line of lines.slice(1)) {
          const colon = line.indexOf(':');
          const name = line.slice(0, colon);
          const value = line.slice(colon + 1).trim();
          const lower = name.toLowerCase();
          if (lower === 'content-length') length = Number(value);
          if (lower === 'connection' || lower === 'keep-alive') continue;
          headers.push(name, value);
        }
        const body = pending.subarray(end + 4);
        remaining = length - body.length;
        const answer = { received: pending, status: Number(lines[0]?.slice(9, 12)), headers };
        onHead(answer, body, remaining <= 0);
      } else {
        remaining -= data.length;
        onBody(data, remaining <= 0);
      }
      if (remaining <= 0) {
        socket.removeListener('data', onData);
        release();
      }
    };
    socket.on('data', onData);
    socket.write(head);
  });
}

function rawFront(): void {
  createServer((client) => {
    client.setNoDelay(true);
    client.on('error', () => client.destroy());
    let pending: Buffer | undefined;
    client.on('data', (chunk: Buffer) => {
      pending = pending ? Buffer.concat([pending, chunk]) : chunk;
      const end = pending.indexOf(HEAD_END);
      if (end < 0) return;
      const head = pending.subarray(0, end + 4);
      pending = pending.length > end + 4 ? pending.subarray(end + 4) : undefined;
      exchange(
        head,
        (answer) => client.write(answer.received),
        (body) => client.write(body),
      );
    });
  }).listen(port, '127.0.0.1');
}

function httpFront(): void {
  const send = (res: ServerResponse, chunk: Buffer, last: boolean): void => {
    if (last) res.end(chunk);
    else if (chunk.length > 0) res.write(chunk);
  };
  createHttpServer((req, res) => {
    let head = `${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/1.1\r\n`;
    const raw = req.rawHeaders;
    for (let i = 0; i + 1 < raw.length; i += 2) head += `${raw[i]}: ${raw[i + 1]}\r\n`;
    exchange(
      `${head}\r\n`,
      (answer, body, last) => {
        res.writeHead(answer.status, answer.headers);
        send(res, body, last);
      },
      (chunk, last) => send(res, chunk, last),
    );
  }).listen(port, '127.0.0.1');
}

if (front === 'http') httpFront();
else rawFront();
listen(() => undefined);
