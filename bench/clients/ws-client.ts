// WebSocket load client, run in its own process.
//
//   pingpong --url U --connections 50 --seconds 8 --size 32
//     opens the connections, prints {"ready":...}, waits for "go" on stdin, then each
//     connection sends a message and sends the next one as soon as its echo arrives, until the
//     time is up; prints {"result":{roundTrips, seconds, p50Ms, p99Ms, errors}}.
//   hold --url U --count 2000
//     opens that many connections (each confirmed by one echo, so the backend side is open
//     too), prints {"ready":...}, and keeps them open and idle until "close" or stdin ends.

import WebSocket from 'ws';
import { arg, listen, numArg, report } from '../lib/child-io';

const mode = process.argv[2];
const url = arg('url', '');
if (!url) throw new Error('--url is required');

interface Opened {
  sockets: WebSocket[];
  failed: number;
  firstError?: string;
}

/** Opens `count` connections, at most `parallel` handshakes at a time; each echoes once. */
async function open(count: number, parallel: number): Promise<Opened> {
  const sockets: WebSocket[] = [];
  let failed = 0;
  let firstError: string | undefined;
  let started = 0;
  const one = (): Promise<void> =>
    new Promise<void>((resolve) => {
      const socket = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: 10_000 });
      let settled = false;
      const done = (error?: Error): void => {
        if (settled) return;
        settled = true;
        if (error) {
          failed++;
          firstError ??= error.message;
          socket.terminate();
        } else {
          sockets.push(socket);
        }
        resolve();
      };
      socket.once('open', () => socket.send('hello'));
      socket.once('message', () => done());
      socket.once('error', (error) => done(error));
      socket.once('close', (code) => done(new Error(`closed with ${code} while opening`)));
    });
  const worker = async (): Promise<void> => {
    while (started < count) {
      started++;
      await one();
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, count) }, worker));
  return firstError === undefined ? { sockets, failed } : { sockets, failed, firstError };
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)] ?? 0;
}

async function pingpong(): Promise<void> {
  const connections = numArg('connections', 50);
  const seconds = numArg('seconds', 8);
  const size = numArg('size', 32);
  const opened = await open(connections, connections);
  report({
    ready: { opened: opened.sockets.length, failed: opened.failed, error: opened.firstError },
  });
  await new Promise<void>((resolve) => listen((line) => line === 'go' && resolve()));

  const payload = Buffer.alloc(size, 'x');
  // Round-trip times in ms; grown on demand.
  let samples = new Float64Array(1 << 16);
  let roundTrips = 0;
  let errors = 0;
  let running = true;
  const started = process.hrtime.bigint();
  for (const socket of opened.sockets) {
    socket.removeAllListeners('message');
    let sent = process.hrtime.bigint();
    socket.on('message', () => {
      const now = process.hrtime.bigint();
      if (roundTrips === samples.length) {
        const bigger = new Float64Array(samples.length * 2);
        bigger.set(samples);
        samples = bigger;
      }
      samples[roundTrips++] = Number(now - sent) / 1e6;
      if (!running) return;
      sent = now;
      socket.send(payload, { binary: true });
    });
    socket.on('error', () => errors++);
    socket.on('close', () => {
      if (running) errors++;
    });
    socket.send(payload, { binary: true });
  }
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  running = false;
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  const sorted = samples.subarray(0, roundTrips).sort();
  report({
    result: {
      roundTrips,
      seconds: elapsed,
      p50Ms: percentile(sorted, 50),
      p99Ms: percentile(sorted, 99),
      errors: errors + opened.failed,
    },
  });
  for (const socket of opened.sockets) socket.terminate();
  process.exit(0);
}

async function hold(): Promise<void> {
  const count = numArg('count', 2000);
  const opened = await open(count, 100);
  let closed = 0;
  for (const socket of opened.sockets) {
    socket.on('close', () => closed++);
    socket.on('error', () => undefined);
  }
  report({
    ready: { opened: opened.sockets.length, failed: opened.failed, error: opened.firstError },
  });
  const finish = (): void => {
    report({ closedEarly: closed });
    for (const socket of opened.sockets) socket.terminate();
    process.exit(0);
  };
  listen((line) => line === 'close' && finish(), finish);
}

const run = mode === 'pingpong' ? pingpong : mode === 'hold' ? hold : undefined;
if (!run) throw new Error('usage: ws-client pingpong|hold --url U ...');
run().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
