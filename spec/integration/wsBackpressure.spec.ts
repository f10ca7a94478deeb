import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket, WebSocketServer } from 'ws';
import { unusedPort } from '../helpers/backend';
import { spawnProxy, type CliProcess } from '../helpers/process';

const MiB = 1024 * 1024;
const MESSAGE_BYTES = MiB;
const MESSAGE_COUNT = 1024;
const TOTAL_BYTES = MESSAGE_BYTES * MESSAGE_COUNT;
/** The backend sends the next message only while its own socket buffers less than this. */
const BACKEND_BUFFER_LIMIT = 4 * MiB;
/** The client stops reading for PAUSE_MS after every READ_BURST_BYTES it receives. */
const READ_BURST_BYTES = 4 * MiB;
const PAUSE_MS = 5;
const PEAK_RSS_LIMIT_MIB = 150;
const TRANSFER_DEADLINE_MS = 150_000;
const TEST_TIMEOUT_MS = 180_000;
const RSS_SAMPLE_MS = 250;

function statusFieldMiB(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB$`, 'm').exec(status);
  if (!match?.[1]) throw new Error(`no ${field} line in /proc/${pid}/status`);
  return Number(match[1]) / 1024;
}

/** The highest resident set size the process has had since it started, in MiB. */
const peakRssMiB = (pid: number): number => statusFieldMiB(pid, 'VmHWM');

/** A WebSocket backend that, once a client connects, floods it with 1 GiB of binary messages. */
interface FloodBackend {
  readonly address: string;
  /** Messages handed to the backend socket so far. */
  readonly sent: () => number;
  close(): Promise<void>;
}

async function startFloodBackend(): Promise<FloodBackend> {
  // A plain HTTP server answers the proxy's health probes; WebSockets share its port.
  const server: Server = createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"status":200}');
  });
  const wss = new WebSocketServer({ server });
  const payload = Buffer.alloc(MESSAGE_BYTES, 0x5a);
  let sent = 0;
  wss.on('connection', (socket) => {
    socket.on('error', () => socket.terminate());
    // Sends while the socket's own buffer is below the limit; every flushed message tries again.
    const pump = (error?: Error): void => {
      if (error) return;
      while (
        sent < MESSAGE_COUNT &&
        socket.readyState === socket.OPEN &&
        socket.bufferedAmount < BACKEND_BUFFER_LIMIT
      ) {
        sent++;
        socket.send(payload, { binary: true }, pump);
      }
    };
    pump();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    sent: () => sent,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * Connects through the proxy and reads until `TOTAL_BYTES` have arrived, pausing the socket for
 * `PAUSE_MS` after every `READ_BURST_BYTES`. Resolves with the bytes received.
 */
function readSlowly(url: string, track: (socket: WebSocket) => void): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const socket = new WebSocket(url);
    track(socket);
    let received = 0;
    let sincePause = 0;
    let finished = false;
    const finish = (error?: Error): void => {
      if (finished) return;
      finished = true;
      clearTimeout(deadline);
      if (error) reject(error);
      else resolve(received);
    };
    const deadline = setTimeout(
      () => finish(new Error(`only ${received} of ${TOTAL_BYTES} bytes within the deadline`)),
      TRANSFER_DEADLINE_MS,
    );
    socket.on('message', (data: Buffer) => {
      received += data.length;
      sincePause += data.length;
      if (received >= TOTAL_BYTES) {
        finish();
        socket.close(1000, 'done');
        return;
      }
      if (sincePause >= READ_BURST_BYTES) {
        sincePause = 0;
        socket.pause();
        setTimeout(() => socket.resume(), PAUSE_MS);
      }
    });
    socket.on('error', (error) => finish(error));
    socket.on('close', (code) =>
      finish(new Error(`closed with ${code} after ${received} of ${TOTAL_BYTES} bytes`)),
    );
  });
}

describe('WebSocket backpressure through the proxy process', () => {
  let folder: string;
  let proxy: CliProcess | undefined;
  let backend: FloodBackend | undefined;
  let client: WebSocket | undefined;
  let sampler: NodeJS.Timeout | undefined;

  beforeAll(() => {
    folder = mkdtempSync(join(tmpdir(), 'rxproxy-ws-backpressure-'));
  });
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  afterEach(async () => {
    clearInterval(sampler);
    sampler = undefined;
    client?.terminate();
    client = undefined;
    if (proxy) {
      proxy.child.kill('SIGTERM');
      await proxy.exited();
      proxy = undefined;
    }
    await backend?.close();
    backend = undefined;
  });

  it(
    'relays 1 GiB from a flooding backend to a slow reader while the proxy stays under 150 MiB peak RSS',
    async () => {
      backend = await startFloodBackend();
      const started = await spawnProxy(
        folder,
        `[websocket]\nserver1=${backend.address}\n`,
        await unusedPort(),
      );
      proxy = started.cli;
      const { port, pid } = started;

      // Resident memory over time, to tell a steady buffer from one that grows with the transfer.
      const startedAt = Date.now();
      const rssOverTime: string[] = [];
      sampler = setInterval(() => {
        try {
          const seconds = ((Date.now() - startedAt) / 1000).toFixed(1);
          rssOverTime.push(`${seconds}s ${statusFieldMiB(pid, 'VmRSS').toFixed(0)}`);
        } catch {
          // The process has exited; the assertions below report it.
        }
      }, RSS_SAMPLE_MS);

      const received = await readSlowly(`ws://127.0.0.1:${port}/flood`, (socket) => {
        client = socket;
      });
      clearInterval(sampler);

      expect(received).toBe(TOTAL_BYTES);
      expect(backend.sent()).toBe(MESSAGE_COUNT);
      const peakMiB = peakRssMiB(pid);
      if (peakMiB >= PEAK_RSS_LIMIT_MIB) {
        throw new Error(
          `proxy peak RSS ${peakMiB.toFixed(1)} MiB, limit ${PEAK_RSS_LIMIT_MIB} MiB; ` +
            `RSS in MiB over time: ${rssOverTime.join(', ')}`,
        );
      }
      expect(peakMiB).toBeLessThan(PEAK_RSS_LIMIT_MIB);
    },
    TEST_TIMEOUT_MS,
  );
});
