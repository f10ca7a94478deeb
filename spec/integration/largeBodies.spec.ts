import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Agent, request } from 'undici';
import { startBackend, unusedPort, type TestBackend } from '../helpers/backend';
import { spawnProxy, type CliProcess } from '../helpers/process';

const CHUNK_BYTES = 1024 * 1024;
const CHUNK_COUNT = 1024;
const TOTAL_BYTES = CHUNK_BYTES * CHUNK_COUNT;
const PEAK_RSS_LIMIT_MIB = 150;
const TRANSFER_TIMEOUT_MS = 120_000;

/** One random MiB; chunk `i` of a body is this buffer with `i` in its first four bytes. */
const seed = randomBytes(CHUNK_BYTES);

/**
 * Chunk `index` of the deterministic 1 GiB body, in a fresh buffer: a chunk handed to a stream
 * may still be queued when the next one is made, so the seed itself is never written to.
 */
function chunkAt(index: number): Buffer {
  const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  seed.copy(chunk);
  chunk.writeUInt32BE(index, 0);
  return chunk;
}

/** Counts and hashes the bytes that pass by, without keeping them. */
class RunningDigest {
  bytes = 0;
  private readonly hash = createHash('sha256');

  update(chunk: Buffer): void {
    this.bytes += chunk.length;
    this.hash.update(chunk);
  }

  digest(): { bytes: number; sha256: string } {
    return { bytes: this.bytes, sha256: this.hash.digest('hex') };
  }
}

/** The whole body as a lazily generated stream, each chunk made only when the consumer pulls. */
function generatedBody(digest: RunningDigest): Readable {
  let next = 0;
  return new Readable({
    highWaterMark: CHUNK_BYTES,
    read() {
      if (next === CHUNK_COUNT) {
        this.push(null);
        return;
      }
      const chunk = chunkAt(next++);
      digest.update(chunk);
      this.push(chunk);
    },
  });
}

/** The highest resident set size the process has had since it started (VmHWM), in MiB. */
function peakRssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmHWM:\s+(\d+)\s+kB$/m.exec(status);
  if (!match?.[1]) throw new Error(`no VmHWM line in /proc/${pid}/status`);
  return Number(match[1]) / 1024;
}

describe('1 GiB bodies through the proxy process', () => {
  let folder: string;
  let client: Agent | undefined;
  let proxy: CliProcess | undefined;
  let backend: TestBackend | undefined;

  beforeAll(() => {
    folder = mkdtempSync(join(tmpdir(), 'rxproxy-large-'));
  });
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  afterEach(async () => {
    await client?.close();
    client = undefined;
    if (proxy) {
      proxy.child.kill('SIGTERM');
      await proxy.exited();
      proxy = undefined;
    }
    await backend?.close();
    backend = undefined;
  });

  /** Starts the CLI in front of `target` and resolves with its URL and process id. */
  async function startProxyProcess(target: TestBackend): Promise<{ url: string; pid: number }> {
    const started = await spawnProxy(
      folder,
      `[http]\nserver1=${target.address}\n`,
      await unusedPort(),
    );
    proxy = started.cli;
    const { port, pid } = started;
    client = new Agent({ keepAliveTimeout: 1000 });
    return { url: `http://127.0.0.1:${port}`, pid };
  }

  it(
    'relays a 1 GiB upload intact while the proxy stays under 150 MiB peak RSS',
    async () => {
      backend = await startBackend('sink', (req, res) => {
        const received = new RunningDigest();
        req.on('data', (chunk: Buffer) => received.update(chunk));
        req.on('end', () => {
          const body = JSON.stringify(received.digest());
          res.writeHead(200, {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
          });
          res.end(body);
        });
      });
      const { url, pid } = await startProxyProcess(backend);

      const sent = new RunningDigest();
      const response = await request(`${url}/upload`, {
        method: 'POST',
        dispatcher: client,
        headers: {
          'content-type': 'application/octet-stream',
          'content-length': String(TOTAL_BYTES),
        },
        body: generatedBody(sent),
      });
      const received = (await response.body.json()) as { bytes: number; sha256: string };

      expect(response.statusCode).toBe(200);
      expect(sent.bytes).toBe(TOTAL_BYTES);
      expect(received).toEqual(sent.digest());
      const peakMiB = peakRssMiB(pid);
      expect(peakMiB).toBeLessThan(PEAK_RSS_LIMIT_MIB);
    },
    TRANSFER_TIMEOUT_MS,
  );

  it(
    'relays a 1 GiB download intact while the proxy stays under 150 MiB peak RSS',
    async () => {
      let served: Promise<{ bytes: number; sha256: string }> | undefined;
      backend = await startBackend('source', (req, res) => {
        req.resume();
        served = (async () => {
          const written = new RunningDigest();
          res.writeHead(200, {
            'content-type': 'application/octet-stream',
            'content-length': String(TOTAL_BYTES),
          });
          for (let index = 0; index < CHUNK_COUNT && !res.destroyed; index++) {
            const chunk = chunkAt(index);
            written.update(chunk);
            if (!res.write(chunk)) {
              await new Promise<void>((resolve) => {
                const done = () => {
                  res.off('drain', done);
                  res.off('close', done);
                  resolve();
                };
                res.on('drain', done);
                res.on('close', done);
              });
            }
          }
          res.end();
          return written.digest();
        })();
      });
      const { url, pid } = await startProxyProcess(backend);

      const response = await request(`${url}/download`, { dispatcher: client });
      expect(response.statusCode).toBe(200);
      const received = new RunningDigest();
      for await (const chunk of response.body) received.update(chunk as Buffer);

      expect(served).toBeDefined();
      const sent = await served;
      expect(sent?.bytes).toBe(TOTAL_BYTES);
      expect(received.digest()).toEqual(sent);
      const peakMiB = peakRssMiB(pid);
      expect(peakMiB).toBeLessThan(PEAK_RSS_LIMIT_MIB);
    },
    TRANSFER_TIMEOUT_MS,
  );
});
