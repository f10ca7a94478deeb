import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Agent, request } from 'undici';
import type { BackendHandler } from '../helpers/backend';
import { useHarness } from '../helpers/harness';
import {
  headerValues,
  mustParse,
  openRaw,
  parseResponse,
  type RawConnection,
} from '../helpers/rawConnection';
import { sleep, waitUntil } from '../helpers/waitUntil';

const SLOW_UPLOADS = 20;
const GET_LOOPS = 8;
const GET_LOOP_MS = 3000;
/** An upper bound on each loop's requests, so that a fast machine still ends the loop soon. */
const GET_LOOP_MAX_REQUESTS = 400;
const TRICKLE_MS = 100;

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** What a backend saw of one request body, updated as bytes arrive. */
interface SeenBody {
  bytes: number;
  chunks: Buffer[];
  ended: boolean;
  aborted: boolean;
}

/** Records each request body by path; answers with the digest once a body is complete. */
function recordingBackend(seen: Map<string, SeenBody>): BackendHandler {
  return (req: IncomingMessage, res) => {
    const body: SeenBody = { bytes: 0, chunks: [], ended: false, aborted: false };
    seen.set(req.url ?? '', body);
    req.on('data', (chunk: Buffer) => {
      body.bytes += chunk.length;
      body.chunks.push(chunk);
    });
    req.on('aborted', () => {
      body.aborted = true;
    });
    req.on('close', () => {
      if (!body.ended) body.aborted = true;
    });
    req.on('end', () => {
      body.ended = true;
      const whole = Buffer.concat(body.chunks);
      const digest = JSON.stringify({
        bytes: whole.length,
        sha256: sha256(whole),
        contentLength: req.headers['content-length'] ?? null,
        transferEncoding: req.headers['transfer-encoding'] ?? null,
      });
      res.writeHead(200, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(digest),
      });
      res.end(digest);
    });
  };
}

/** A raw POST whose head is sent at once and whose body is written by the test. */
async function openUpload(port: number, path: string, framing: string): Promise<RawConnection> {
  const connection = await openRaw(port);
  connection.write(`POST ${path} HTTP/1.1\r\nHost: upload.test\r\n${framing}\r\n`);
  return connection;
}

function chunk(data: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`), data, Buffer.from('\r\n')]);
}

const LAST_CHUNK = '0\r\n\r\n';

/** Writes one byte every TRICKLE_MS until `untilMs` has passed; the timer ends with it. */
async function trickle(connection: RawConnection, untilMs: number): Promise<void> {
  const deadline = Date.now() + untilMs;
  while (Date.now() < deadline) {
    connection.write('x');
    await sleep(TRICKLE_MS);
  }
}

/** Sequential GETs until the deadline (or the cap): how many were made and how many failed. */
async function getLoop(client: Agent, url: string): Promise<{ made: number; failed: number }> {
  const deadline = Date.now() + GET_LOOP_MS;
  let made = 0;
  let failed = 0;
  while (Date.now() < deadline && made < GET_LOOP_MAX_REQUESTS) {
    made++;
    try {
      const response = await request(url, { dispatcher: client });
      await response.body.text();
      if (response.statusCode !== 200) failed++;
    } catch {
      failed++;
    }
  }
  return { made, failed };
}

function statusOf(text: string): number | undefined {
  return parseResponse(text)?.status;
}

describe('slow clients', () => {
  const harness = useHarness();
  const { backend, proxy } = harness;
  const opened: RawConnection[] = [];
  afterEach(() => {
    for (const connection of opened.splice(0)) connection.destroy();
  });

  /** A recording backend behind the proxy with `pool` settings added to [http]. */
  async function recordedProxy(pool = '', frontend = '') {
    const seen = new Map<string, SeenBody>();
    const target = await backend('one', recordingBackend(seen));
    const running = await proxy(`[http]\nserver1=${target.address}\n${pool}`, frontend);
    return { seen, target, running };
  }

  async function upload(port: number, path: string, framing: string): Promise<RawConnection> {
    const connection = await openUpload(port, path, framing);
    opened.push(connection);
    return connection;
  }

  it('20 trickling uploads take no worker: every GET succeeds, the stalled uploads get 408', async () => {
    const { target, running } = await recordedProxy('', 'body_timeout=1s\n');
    const uploads = await Promise.all(
      Array.from({ length: SLOW_UPLOADS }, (_, i) =>
        upload(running.address.port, `/slow/${i}`, 'Content-Length: 1000000\r\n'),
      ),
    );
    const trickling = Promise.all(uploads.map((connection) => trickle(connection, GET_LOOP_MS)));
    const loops = await Promise.all(
      Array.from({ length: GET_LOOPS }, () => getLoop(harness.client, `${running.url}/get`)),
    );
    await trickling;
    const answers = await Promise.all(uploads.map((connection) => connection.waitForClose(5000)));

    expect(loops.reduce((sum, loop) => sum + loop.failed, 0)).toBe(0);
    expect(loops.every((loop) => loop.made > 0)).toBe(true);
    for (const text of answers) {
      const response = mustParse(text);
      expect(response.status).toBe(408);
      expect(JSON.parse(response.body)).toEqual({ error: 'request timeout' });
    }
    expect(target.received.filter((seenRequest) => seenRequest.url.startsWith('/slow'))).toEqual(
      [],
    );
  }, 20_000);

  /** A body's framing, its first part and the rest, as raw bytes on the wire. */
  interface Wire {
    readonly framing: string;
    readonly first: Buffer;
    readonly rest: Buffer;
  }

  const fixedLength = (body: Buffer, split: number): Wire => ({
    framing: `Content-Length: ${body.length}\r\n`,
    first: body.subarray(0, split),
    rest: body.subarray(split),
  });
  const chunked = (body: Buffer, split: number): Wire => ({
    framing: 'Transfer-Encoding: chunked\r\n',
    first: chunk(body.subarray(0, split)),
    rest: Buffer.concat([chunk(body.subarray(split)), Buffer.from(LAST_CHUNK)]),
  });

  async function answered(connection: RawConnection): Promise<{ status: number; body: unknown }> {
    const text = await connection.waitFor((received) => !!parseResponse(received)?.complete);
    const response = mustParse(text);
    return { status: response.status, body: JSON.parse(response.body) as unknown };
  }

  it.each([
    ['Content-Length', fixedLength],
    ['chunked', chunked],
  ])(
    'reads a small %s body whole before the backend sees the request, then sends it with its length',
    async (_name, wire) => {
      const { target, running } = await recordedProxy();
      const body = randomBytes(1000);
      const { framing, first, rest } = wire(body, 500);
      const connection = await upload(running.address.port, '/small', framing);
      connection.write(first);
      await sleep(300);
      expect(target.received).toEqual([]);
      connection.write(rest);
      expect(await answered(connection)).toEqual({
        status: 200,
        body: { bytes: 1000, sha256: sha256(body), contentLength: '1000', transferEncoding: null },
      });
    },
  );

  it.each([
    ['Content-Length', fixedLength, '100000', null],
    ['chunked', chunked, null, 'chunked'],
  ])(
    'streams a %s body larger than request_buffer_size while the client still sends it',
    async (_name, wire, contentLength, transferEncoding) => {
      const { seen, running } = await recordedProxy('request_buffer_size=1KiB\n');
      const body = randomBytes(100_000);
      const { framing, first, rest } = wire(body, 5000);
      const connection = await upload(running.address.port, '/large', framing);
      // Small pieces, so that a chunked body is read in parts before it outgrows the buffer.
      for (let at = 0; at < first.length; at += 400) {
        connection.write(first.subarray(at, at + 400));
        await sleep(20);
      }
      await waitUntil(
        () => (seen.get('/large')?.bytes ?? 0) > 0,
        'the backend sees the first bytes',
      );
      expect(seen.get('/large')?.ended).toBe(false);
      connection.write(rest);
      expect(await answered(connection)).toEqual({
        status: 200,
        body: { bytes: 100_000, sha256: sha256(body), contentLength, transferEncoding },
      });
    },
  );

  it('answers 413 at once to a Content-Length over max_body_size; the backend sees nothing', async () => {
    const target = await backend('one');
    const running = await proxy(`[http]\nserver1=${target.address}\n`, 'max_body_size=1KiB\n');
    const connection = await upload(running.address.port, '/big', 'Content-Length: 2000\r\n');
    const response = mustParse(await connection.waitForClose());
    expect(response.status).toBe(413);
    expect(JSON.parse(response.body)).toEqual({ error: 'payload too large' });
    expect(headerValues(response, 'connection')).toEqual(['close']);
    expect(target.received).toEqual([]);
  });

  it('cuts a chunked body that grows past max_body_size with 413; the backend sees nothing', async () => {
    const target = await backend('one');
    const running = await proxy(`[http]\nserver1=${target.address}\n`, 'max_body_size=1KiB\n');
    const connection = await upload(
      running.address.port,
      '/grows',
      'Transfer-Encoding: chunked\r\n',
    );
    connection.write(chunk(randomBytes(600)));
    connection.write(chunk(randomBytes(600)));
    const response = mustParse(await connection.waitForClose());
    expect(response.status).toBe(413);
    expect(JSON.parse(response.body)).toEqual({ error: 'payload too large' });
    expect(target.received).toEqual([]);
  });

  it('aborts the upstream request of a streaming chunked body that grows past max_body_size', async () => {
    const { seen, running } = await recordedProxy(
      'request_buffer_size=0\n',
      'max_body_size=1KiB\n',
    );
    const connection = await upload(
      running.address.port,
      '/grows',
      'Transfer-Encoding: chunked\r\n',
    );
    connection.write(chunk(randomBytes(600)));
    await waitUntil(() => seen.get('/grows')?.bytes === 600, 'the backend sees the first chunk');
    connection.write(chunk(randomBytes(600)));
    const text = await connection.waitForClose();
    await waitUntil(() => seen.get('/grows')?.aborted === true, 'the upstream request is aborted');
    expect(statusOf(text)).toBe(413);
    expect(seen.get('/grows')?.bytes).toBe(600);
    expect(seen.get('/grows')?.ended).toBe(false);
  });

  it('answers 408 to a large body that stalls while streaming, and aborts the upstream request', async () => {
    const { seen, running } = await recordedProxy(
      'request_buffer_size=1KiB\n',
      'body_timeout=1s\n',
    );
    const connection = await upload(running.address.port, '/stalls', 'Content-Length: 100000\r\n');
    connection.write(randomBytes(5000));
    await waitUntil(() => seen.get('/stalls')?.bytes === 5000, 'the backend sees the first bytes');
    const text = await connection.waitForClose();
    await waitUntil(() => seen.get('/stalls')?.aborted === true, 'the upstream request is aborted');
    expect(statusOf(text)).toBe(408);
    expect(seen.get('/stalls')?.ended).toBe(false);
  });

  it('returns the buffer budget of a client that leaves mid-body', async () => {
    const { seen, running } = await recordedProxy(
      'request_buffer_size=1KiB\nrequest_buffer_total=1KiB\n',
    );
    const port = running.address.port;
    const leaving = await upload(port, '/leaves', 'Content-Length: 1000\r\n');
    leaving.write(randomBytes(10));
    await sleep(100);
    leaving.destroy();
    await waitUntil(
      () => running.events.some((event) => event.type === 'request' && event.url === '/leaves'),
      'the proxy is done with the request that left',
    );
    const next = await upload(port, '/next', 'Content-Length: 1000\r\n');
    next.write(randomBytes(10));
    await sleep(300);
    expect(seen.size).toBe(0);
    next.write(randomBytes(990));
    expect((await answered(next)).status).toBe(200);
  });

  it('streams a second slow body once request_buffer_total is taken, and buffers again after', async () => {
    const { seen, running } = await recordedProxy(
      'request_buffer_size=1KiB\nrequest_buffer_total=1KiB\n',
    );
    const port = running.address.port;
    const bodies = [randomBytes(1000), randomBytes(1000), randomBytes(1000)];
    const first = await upload(port, '/first', 'Content-Length: 1000\r\n');
    first.write(bodies[0]?.subarray(0, 10) ?? '');
    await sleep(100);
    const second = await upload(port, '/second', 'Content-Length: 1000\r\n');
    second.write(bodies[1]?.subarray(0, 10) ?? '');
    await waitUntil(() => seen.get('/second')?.bytes === 10, 'the second body streams');
    expect(seen.has('/first')).toBe(false);

    first.write(bodies[0]?.subarray(10) ?? '');
    second.write(bodies[1]?.subarray(10) ?? '');
    expect((await answered(first)).status).toBe(200);
    expect((await answered(second)).status).toBe(200);

    const third = await upload(port, '/third', 'Content-Length: 1000\r\n');
    third.write(bodies[2]?.subarray(0, 10) ?? '');
    await sleep(300);
    expect(seen.has('/third')).toBe(false);
    third.write(bodies[2]?.subarray(10) ?? '');
    expect(await answered(third)).toEqual({
      status: 200,
      body: {
        bytes: 1000,
        sha256: sha256(bodies[2] ?? Buffer.alloc(0)),
        contentLength: '1000',
        transferEncoding: null,
      },
    });
  });
});
