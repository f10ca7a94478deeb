import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { unusedPort } from '../helpers/backend';
import { useHarness } from '../helpers/harness';
import { spawnProxy } from '../helpers/process';
import { startRawBackend, type RawBehaviour } from '../helpers/rawBackend';
import { waitUntil } from '../helpers/waitUntil';

/** What a client saw: a status and a complete body, or an error (possibly after the status). */
interface Outcome {
  readonly status?: number;
  readonly body?: string;
  readonly error?: string;
  readonly ms: number;
}

const PAIRS = 5;
const BAD_GATEWAY = { status: 502, body: '{"error":"bad gateway"}' };
const GATEWAY_TIMEOUT = { status: 504, body: '{"error":"gateway timeout"}' };

const openFds = (pid: number): number => readdirSync(`/proc/${pid}/fd`).length;

/** The `request` log lines of the proxy's stdout for one backend: status and error. */
function loggedRequests(stdout: string, backend: string): { status: number; error?: string }[] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((record) => record['event'] === 'request' && record['backend'] === backend)
    .map((record) => ({ status: Number(record['status']), error: String(record['error']) }));
}

/** What the bad backend's requests did: as the client saw them and as the proxy logged them. */
interface BadExchanges {
  readonly seen: Outcome[];
  readonly logged: { status: number; error?: string }[];
}

async function send(url: string, client: Agent): Promise<Outcome> {
  const startedAt = Date.now();
  let status: number | undefined;
  try {
    const response = await request(url, { dispatcher: client });
    status = response.statusCode;
    const body = await response.body.text();
    return { status, body, ms: Date.now() - startedAt };
  } catch (error) {
    const ms = Date.now() - startedAt;
    return { ...(status === undefined ? {} : { status }), error: String(error), ms };
  }
}

const fill = (bytes: number): string => {
  let head = '';
  for (let index = 0; head.length < bytes; index++)
    head += `x-fill-${index}: ${'a'.repeat(1000)}\r\n`;
  return head;
};

const answersGarbage: RawBehaviour = (socket) => socket.write('hello\r\n\r\n');
const answersRandomBytes: RawBehaviour = (socket) => socket.write(randomBytes(256));
const answersLengthAndChunked: RawBehaviour = (socket) =>
  socket.write(
    'HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 5\r\n' +
      'transfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n' +
      'HTTP/1.1 200 OK\r\ncontent-length: 8\r\n\r\nsmuggled',
  );
const writesPartOfBody = (socket: Socket, then: () => void): void => {
  socket.write('HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\n');
  socket.write('content-length: 100000\r\n\r\n');
  socket.write(Buffer.alloc(1000, 0x61), then);
};
const closesMidBody: RawBehaviour = (socket) => writesPartOfBody(socket, () => socket.destroy());
const fallsSilentMidBody: RawBehaviour = (socket) => writesPartOfBody(socket, () => undefined);
const sendsHugeHeaders: RawBehaviour = (socket) =>
  socket.write(`HTTP/1.1 200 OK\r\n${fill(100 * 1024)}content-length: 0\r\n\r\n`);
const neverAnswers: RawBehaviour = () => undefined;

describe('misbehaving backends', () => {
  const harness = useHarness();
  let folder: string;

  beforeAll(() => {
    folder = mkdtempSync(join(tmpdir(), 'rxproxy-faults-'));
  });
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  /**
   * A proxy process whose round-robin pool has the misbehaving backend and a good one, so that
   * requests alternate between them; no retries and no passive ejection, so every second request
   * really meets the bad backend. Runs PAIRS pairs of requests and checks, for each pair, that
   * the bad backend got one request and the good backend answered the other. Then the client
   * closes and the proxy's open file descriptors must return to their count before any request.
   */
  async function alternate(behaviour: RawBehaviour, poolKeys = ''): Promise<BadExchanges> {
    const bad = await startRawBackend(behaviour);
    harness.onCleanup(() => bad.close());
    const good = await harness.backend('good');
    const { cli, pid, port } = await spawnProxy(
      folder,
      `[http]\nalgorithm=round-robin\nretries=0\npassive_health_check=false\n` +
        `min_workers=1\nmax_workers=1\n${poolKeys}\nserver1=${bad.address}\nserver2=${good.address}\n`,
      await unusedPort(),
    );
    harness.onCleanup(async () => {
      cli.child.kill('SIGTERM');
      await cli.exited();
    });
    await waitUntil(
      () => bad.open() === 1 && good.connections.open === 1,
      'the proxy has one worker on each backend',
    );
    const baseline = openFds(pid);

    const client = new Agent({ keepAliveTimeout: 1000 });
    const badOutcomes: Outcome[] = [];
    for (let pair = 0; pair < PAIRS; pair++) {
      const [badBefore, goodBefore] = [bad.requests.length, good.received.length];
      const outcomes = [
        await send(`http://127.0.0.1:${port}/pair/${pair}/a`, client),
        await send(`http://127.0.0.1:${port}/pair/${pair}/b`, client),
      ];
      expect([bad.requests.length - badBefore, good.received.length - goodBefore]).toEqual([1, 1]);
      const fromGood = outcomes.filter((outcome) => outcome.body?.includes('"backend":"good"'));
      expect(fromGood).toHaveLength(1);
      expect(fromGood[0]?.status).toBe(200);
      badOutcomes.push(...outcomes.filter((outcome) => !fromGood.includes(outcome)));
    }
    await client.close();

    await waitUntil(
      () => bad.open() === 1 && good.connections.open === 1 && openFds(pid) === baseline,
      'the proxy is back to one worker per backend and its descriptors to the baseline',
    ).catch(() => undefined);
    expect({ fds: openFds(pid), bad: bad.open(), good: good.connections.open }).toEqual({
      fds: baseline,
      bad: 1,
      good: 1,
    });
    expect(cli.stderr()).toBe('');
    await waitUntil(
      () => loggedRequests(cli.stdout(), 'server1').length === PAIRS,
      'every request to the bad backend is logged',
    );
    return { seen: badOutcomes, logged: loggedRequests(cli.stdout(), 'server1') };
  }

  const times = <T>(value: T): T[] => Array.from({ length: PAIRS }, () => value);
  const cleanAnswer = (answer: { status: number; body: string }) =>
    times(expect.objectContaining(answer) as unknown);
  const loggedAs = (status: number, error: RegExp) =>
    times({ status, error: expect.stringMatching(error) as unknown });
  /** The head arrived, then the connection was cut: no complete body. */
  const cutAfterHead = () =>
    times({ status: 200, error: expect.any(String) as unknown, ms: expect.any(Number) as unknown });

  it('answers 502 to a backend that answers "hello" instead of HTTP', async () => {
    const { seen, logged } = await alternate(answersGarbage);
    expect(seen).toEqual(cleanAnswer(BAD_GATEWAY));
    expect(logged).toEqual(loggedAs(502, /HTTP\/1\.1 protocol/));
  });

  it('answers 502 to a backend that answers random bytes', async () => {
    const { seen, logged } = await alternate(answersRandomBytes);
    expect(seen).toEqual(cleanAnswer(BAD_GATEWAY));
    expect(logged).toEqual(loggedAs(502, /./));
  });

  it('answers 502, forwarding no body, to a response with both Content-Length and Transfer-Encoding', async () => {
    const { seen, logged } = await alternate(answersLengthAndChunked);
    expect(seen).toEqual(cleanAnswer(BAD_GATEWAY));
    expect(seen.map((outcome) => outcome.body).join('')).not.toMatch(/hello|smuggled/);
    // llhttp refuses the head; undici reports it as a length mismatch since no body byte came.
    expect(logged).toEqual(loggedAs(502, /HPE_UNEXPECTED_CONTENT_LENGTH/));
  });

  it('cuts the client connection when the backend closes in the middle of the body, and logs 502', async () => {
    const { seen, logged } = await alternate(closesMidBody);
    expect(seen).toEqual(cutAfterHead());
    expect(logged).toEqual(loggedAs(502, /UND_ERR_SOCKET/));
  });

  it('cuts the client connection when the backend falls silent in the middle of the body, and logs 504', async () => {
    const { seen, logged } = await alternate(fallsSilentMidBody, 'response_timeout=300ms');
    expect(seen).toEqual(cutAfterHead());
    expect(logged).toEqual(loggedAs(504, /UND_ERR_BODY_TIMEOUT/));
  });

  it('answers 502 to 100 KiB of response headers', async () => {
    const { seen, logged } = await alternate(sendsHugeHeaders);
    expect(seen).toEqual(cleanAnswer(BAD_GATEWAY));
    expect(logged).toEqual(loggedAs(502, /UND_ERR_HEADERS_OVERFLOW/));
  });

  it('answers 504 after response_timeout to a backend that never answers', async () => {
    const { seen, logged } = await alternate(neverAnswers, 'response_timeout=300ms');
    expect(seen).toEqual(cleanAnswer(GATEWAY_TIMEOUT));
    expect(logged).toEqual(loggedAs(504, /UND_ERR_HEADERS_TIMEOUT/));
    // undici's header timer ticks about every 500 ms, so the answer comes within 300 ms + 1 s.
    for (const outcome of seen) {
      expect(outcome.ms).toBeGreaterThanOrEqual(250);
      expect(outcome.ms).toBeLessThan(5000);
    }
  });
});
