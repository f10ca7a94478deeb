import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import { Agent, buildConnector, request } from 'undici';
import { rawExchange, type TestBackend } from '../helpers/backend';
import { useHarness } from '../helpers/harness';
import {
  headerValues,
  mustParse,
  openRaw,
  parseResponse,
  type RawConnection,
} from '../helpers/rawConnection';

/** Longest any single wait in this file may take. */
const WAIT_MS = 5000;

/** Like the shared test client, but no request waits longer than WAIT_MS for headers or body bytes. */
function boundedAgent(options: Agent.Options = {}): Agent {
  return new Agent({
    keepAliveTimeout: 1000,
    headersTimeout: WAIT_MS,
    bodyTimeout: WAIT_MS,
    ...options,
  });
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

describe('forwarding semantics', () => {
  const harness = useHarness(boundedAgent);
  const { backend, proxy } = harness;

  async function raw(port: number): Promise<RawConnection> {
    const connection = await openRaw(port);
    harness.onCleanup(() => {
      connection.destroy();
      return Promise.resolve();
    });
    return connection;
  }

  /** A single-connection client that counts the TCP connections it opens. */
  function countingClient(): { agent: Agent; connections: () => number } {
    const connector = buildConnector({});
    let opened = 0;
    const agent = boundedAgent({
      keepAliveTimeout: WAIT_MS,
      connections: 1,
      connect: (options, callback) => {
        opened++;
        connector(options, callback);
      },
    });
    harness.onCleanup(() => agent.close());
    return { agent, connections: () => opened };
  }

  describe('request headers', () => {
    it('keeps the order and repeats of request headers', async () => {
      const target = await backend('a');
      const running = await proxy(`[http]\nserver1=${target.address}\n`);
      const text = await rawExchange(
        running.address.port,
        'GET /order HTTP/1.1\r\nHost: example.test\r\nX-A: 1\r\nX-Between: b\r\nX-B: 2\r\n' +
          'X-A: 3\r\nConnection: close\r\n\r\n',
      );
      expect(mustParse(text).status).toBe(200);
      const rawHeaders = target.received[0]?.rawHeaders ?? [];
      const pairs: string[] = [];
      for (let i = 0; i < rawHeaders.length; i += 2) {
        const name = rawHeaders[i] ?? '';
        if (['x-a', 'x-b', 'x-between'].includes(name.toLowerCase())) {
          pairs.push(name.toLowerCase(), rawHeaders[i + 1] ?? '');
        }
      }
      expect(pairs).toEqual(['x-a', '1', 'x-between', 'b', 'x-b', '2', 'x-a', '3']);
      expect(target.received[0]?.headers['x-a']).toBe('1, 3');
    });

    it('does not pass an h2c upgrade offer on a plain GET to the backend', async () => {
      const target = await backend('a');
      const running = await proxy(`[http]\nserver1=${target.address}\n`);
      const connection = await raw(running.address.port);
      connection.write(
        'GET /upgrade HTTP/1.1\r\nHost: example.test\r\nConnection: Upgrade, HTTP2-Settings\r\n' +
          'Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\nX-Keep: yes\r\n\r\n',
      );
      const text = await connection.waitFor((received) => !!parseResponse(received)?.complete);
      const response = mustParse(text);
      expect(response.status).toBe(200);
      expect(JSON.parse(response.body)).toEqual({ backend: 'a', url: '/upgrade' });
      const headers = target.received[0]?.headers ?? {};
      expect(headers.upgrade).toBeUndefined();
      expect(headers['http2-settings']).toBeUndefined();
      expect(headers.connection ?? '').not.toMatch(/upgrade/i);
      expect(headers['x-keep']).toBe('yes');
    });

    it('sends the backend address as Host with preserve_host=false, the client Host by default', async () => {
      const target = await backend('a');
      const rewriting = await proxy(`[http]\npreserve_host=false\nserver1=${target.address}\n`);
      const preserving = await proxy(`[http]\nserver1=${target.address}\n`);
      const ask = 'GET /host HTTP/1.1\r\nHost: public.example:8080\r\nConnection: close\r\n\r\n';
      expect(mustParse(await rawExchange(rewriting.address.port, ask)).status).toBe(200);
      expect(mustParse(await rawExchange(preserving.address.port, ask)).status).toBe(200);
      const [rewritten, preserved] = target.received;
      const hostLines = (rawHeaders: readonly string[] = []): string[] =>
        rawHeaders.filter((name, index) => index % 2 === 0 && /^host$/i.test(name));
      expect(rewritten?.headers.host).toBe(`127.0.0.1:${target.port}`);
      expect(rewritten?.headers['x-forwarded-host']).toBe('public.example:8080');
      expect(hostLines(rewritten?.rawHeaders)).toHaveLength(1);
      expect(preserved?.headers.host).toBe('public.example:8080');
      expect(preserved?.headers['x-forwarded-host']).toBe('public.example:8080');
      expect(hostLines(preserved?.rawHeaders)).toHaveLength(1);
    });
  });

  describe('response headers', () => {
    it('keeps several Set-Cookie headers and the order of all response headers', async () => {
      const target = await backend('cookies', (req, res) => {
        req.resume();
        res.writeHead(200, [
          'Set-Cookie',
          'a=1',
          'X-One',
          '1',
          'Set-Cookie',
          'b=2; Path=/',
          'X-Two',
          '2',
          'Set-Cookie',
          'c=3; HttpOnly',
          'Content-Length',
          '2',
        ]);
        res.end('ok');
      });
      const running = await proxy(`[http]\nserver1=${target.address}\n`);
      const response = mustParse(
        await rawExchange(
          running.address.port,
          'GET /cookies HTTP/1.1\r\nHost: example.test\r\nConnection: close\r\n\r\n',
        ),
      );
      expect(response.status).toBe(200);
      expect(response.body).toBe('ok');
      const relevant = response.headers
        .filter(([name]) => ['set-cookie', 'x-one', 'x-two'].includes(name.toLowerCase()))
        .map(([name, value]) => `${name.toLowerCase()}: ${value}`);
      expect(relevant).toEqual([
        'set-cookie: a=1',
        'x-one: 1',
        'set-cookie: b=2; Path=/',
        'x-two: 2',
        'set-cookie: c=3; HttpOnly',
      ]);

      const viaUndici = await request(`${running.url}/cookies`, { dispatcher: harness.client });
      expect(await viaUndici.body.text()).toBe('ok');
      expect(viaUndici.headers['set-cookie']).toEqual(['a=1', 'b=2; Path=/', 'c=3; HttpOnly']);
    });

    it('does not pass the backend hop-by-hop response headers to the client', async () => {
      const target = await backend('hops', (req, res) => {
        req.resume();
        res.writeHead(200, [
          'Connection',
          'keep-alive, X-Secret',
          'Keep-Alive',
          'timeout=5, max=99',
          'X-Secret',
          'hidden',
          'X-Visible',
          'yes',
          'Content-Length',
          '4',
        ]);
        res.end('body');
      });
      const running = await proxy(`[http]\nserver1=${target.address}\n`);
      const response = mustParse(
        await rawExchange(
          running.address.port,
          'GET /hops HTTP/1.1\r\nHost: example.test\r\nConnection: close\r\n\r\n',
        ),
      );
      expect(response.status).toBe(200);
      expect(response.body).toBe('body');
      expect(headerValues(response, 'x-visible')).toEqual(['yes']);
      expect(headerValues(response, 'x-secret')).toEqual([]);
      expect(headerValues(response, 'keep-alive')).toEqual([]);
      expect(headerValues(response, 'connection')).toEqual(['close']);
    });
  });

  describe('bodies', () => {
    async function digestBackend(): Promise<TestBackend> {
      return backend('digest', (req, res) => {
        void readBody(req).then((body) => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({
              bytes: body.length,
              sha256: sha256(body),
              contentLength: req.headers['content-length'] ?? null,
              transferEncoding: req.headers['transfer-encoding'] ?? null,
            }),
          );
        });
      });
    }

    it('delivers a fixed-length request body intact, with its Content-Length', async () => {
      const target = await digestBackend();
      const running = await proxy(`[http]\nserver1=${target.address}\n`);
      const body = randomBytes(200_000);
      const response = await request(`${running.url}/fixed`, {
        method: 'PUT',
        dispatcher: harness.client,
        body,
      });
      expect(response.statusCode).toBe(200);
      expect(await response.body.json()).toEqual({
        bytes: 200_000,
        sha256: sha256(body),
        contentLength: '200000',
        transferEncoding: null,
      });
    });

    it.each([
      ['read whole, with its exact Content-Length', '', '70011', null],
      ['streamed, still chunked', 'request_buffer_size=0\n', null, 'chunked'],
    ])(
      'delivers a chunked request body intact: %s',
      async (_name, buffering, contentLength, transferEncoding) => {
        const target = await digestBackend();
        const running = await proxy(`[http]\nserver1=${target.address}\n${buffering}`);
        const pieces = [randomBytes(10), randomBytes(70_000), randomBytes(1)];
        const response = await request(`${running.url}/chunked`, {
          method: 'POST',
          dispatcher: harness.client,
          body: Readable.from(pieces),
        });
        expect(response.statusCode).toBe(200);
        expect(await response.body.json()).toEqual({
          bytes: 70_011,
          sha256: sha256(Buffer.concat(pieces)),
          contentLength,
          transferEncoding,
        });
      },
    );

    it('delivers a fixed-length and a chunked response body intact', async () => {
      const fixed = randomBytes(300_000);
      const pieces = [randomBytes(5), randomBytes(100_000), randomBytes(3)];
      const target = await backend('bodies', (req, res) => {
        req.resume();
        if (req.url === '/fixed') {
          res.writeHead(200, { 'content-length': fixed.length });
          res.end(fixed);
          return;
        }
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.write(pieces[0]);
        res.write(pieces[1]);
        setTimeout(() => res.end(pieces[2]), 10);
      });
      const running = await proxy(`[http]\nserver1=${target.address}\n`);

      const fixedResponse = await request(`${running.url}/fixed`, { dispatcher: harness.client });
      expect(fixedResponse.statusCode).toBe(200);
      expect(fixedResponse.headers['content-length']).toBe('300000');
      expect(Buffer.from(await fixedResponse.body.arrayBuffer()).equals(fixed)).toBe(true);

      const chunkedResponse = await request(`${running.url}/chunked`, {
        dispatcher: harness.client,
      });
      expect(chunkedResponse.statusCode).toBe(200);
      expect(chunkedResponse.headers['transfer-encoding']).toBe('chunked');
      expect(chunkedResponse.headers['content-length']).toBeUndefined();
      const received = Buffer.from(await chunkedResponse.body.arrayBuffer());
      expect(received.length).toBe(100_008);
      expect(received.equals(Buffer.concat(pieces))).toBe(true);
    });

    it('delivers a 1 MiB response streamed slowly in chunks complete', async () => {
      const chunks = Array.from({ length: 32 }, (_, index) => {
        const chunk = randomBytes(32 * 1024);
        chunk.writeUInt32BE(index, 0);
        return chunk;
      });
      const target = await backend('slow', (req, res) => {
        req.resume();
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        let next = 0;
        const writeNext = (): void => {
          if (next === chunks.length) {
            res.end();
            return;
          }
          res.write(chunks[next++]);
          setTimeout(writeNext, 10);
        };
        writeNext();
      });
      const running = await proxy(`[http]\nserver1=${target.address}\n`);
      const response = await request(`${running.url}/slow`, { dispatcher: harness.client });
      expect(response.statusCode).toBe(200);
      const received = Buffer.from(await response.body.arrayBuffer());
      expect(received.length).toBe(1024 * 1024);
      expect(sha256(received)).toBe(sha256(Buffer.concat(chunks)));
    });
  });

  describe('responses without a body', () => {
    async function bodylessBackend(): Promise<TestBackend> {
      return backend('bodyless', (req, res) => {
        req.resume();
        if (req.url === '/head') {
          res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '1234' });
          res.end(req.method === 'HEAD' ? undefined : 'x'.repeat(1234));
        } else if (req.url === '/empty') {
          res.writeHead(204, { 'x-reason': 'nothing' });
          res.end();
        } else if (req.url === '/cached') {
          res.writeHead(304, { etag: '"v1"' });
          res.end();
        } else {
          res.writeHead(200, { 'content-length': '5' });
          res.end('after');
        }
      });
    }

    it.each([
      ['HEAD', '/head', 200, { 'content-length': '1234', 'content-type': 'text/plain' }],
      ['GET', '/empty', 204, { 'x-reason': 'nothing' }],
      ['GET', '/cached', 304, { etag: '"v1"' }],
    ] as const)(
      '%s %s gives %d with headers, no body, and keeps the connection usable',
      async (method, path, status, expectedHeaders) => {
        const target = await bodylessBackend();
        const running = await proxy(`[http]\nserver1=${target.address}\n`);
        const { agent, connections } = countingClient();
        const first = await request(`${running.url}${path}`, {
          method,
          dispatcher: agent,
          // undici closes the connection after a HEAD unless told to keep it.
          reset: false,
          headers: path === '/cached' ? { 'if-none-match': '"v1"' } : {},
        });
        expect(first.statusCode).toBe(status);
        expect(first.headers).toMatchObject(expectedHeaders);
        expect(await first.body.text()).toBe('');

        const second = await request(`${running.url}/after`, { dispatcher: agent });
        expect(second.statusCode).toBe(200);
        expect(await second.body.text()).toBe('after');
        expect(connections()).toBe(1);
        expect(target.received.map((received) => `${received.method} ${received.url}`)).toEqual([
          `${method} ${path}`,
          'GET /after',
        ]);
      },
    );
  });

  it('answers Expect: 100-continue and then delivers the body', async () => {
    const target = await backend('continue', (req, res) => {
      void readBody(req).then((body) => {
        const reply = JSON.stringify({ body: body.toString('latin1') });
        res.writeHead(200, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(reply),
        });
        res.end(reply);
      });
    });
    const running = await proxy(`[http]\nserver1=${target.address}\n`);
    const connection = await raw(running.address.port);
    connection.write(
      'POST /continue HTTP/1.1\r\nHost: example.test\r\nExpect: 100-continue\r\n' +
        'Content-Length: 5\r\nConnection: close\r\n\r\n',
    );
    const interim = await connection.waitFor((text) => text.includes('\r\n\r\n'));
    expect(interim).toMatch(/^HTTP\/1\.1 100 Continue\r\n/);
    connection.write('hello');
    const text = await connection.waitForClose();
    const final = mustParse(text.slice(text.indexOf('\r\n\r\n') + 4));
    expect(final.status).toBe(200);
    expect(JSON.parse(final.body)).toEqual({ body: 'hello' });
    expect(target.received).toHaveLength(1);
    expect(target.received[0]?.headers['content-length']).toBe('5');
    expect(target.received[0]?.headers.expect).toBeUndefined();
  });

  it('passes response trailers to the client', async () => {
    const target = await backend('trailers', (req, res) => {
      req.resume();
      res.writeHead(200, {
        'content-type': 'text/plain',
        'transfer-encoding': 'chunked',
        trailer: 'x-checksum',
      });
      res.write('part one, ');
      res.addTrailers({ 'x-checksum': 'abc' });
      res.end('part two');
    });
    const running = await proxy(`[http]\nserver1=${target.address}\n`);
    const response = await request(`${running.url}/trailers`, { dispatcher: harness.client });
    expect(response.statusCode).toBe(200);
    expect(await response.body.text()).toBe('part one, part two');
    expect(response.trailers).toEqual({ 'x-checksum': 'abc' });
  });

  it('passes a redirect to the client without following it', async () => {
    const target = await backend('redirect', (req, res) => {
      req.resume();
      res.writeHead(302, { location: 'http://127.0.0.1:1/elsewhere', 'content-length': '0' });
      res.end();
    });
    const running = await proxy(`[http]\nserver1=${target.address}\n`);
    const response = await request(`${running.url}/moved`, { dispatcher: harness.client });
    expect(response.statusCode).toBe(302);
    expect(response.headers.location).toBe('http://127.0.0.1:1/elsewhere');
    expect(await response.body.text()).toBe('');
    expect(target.received).toHaveLength(1);
  });

  it('passes a gzip-encoded response through without decompressing it', async () => {
    const original = Buffer.from('compressible text, '.repeat(2000));
    const compressed = gzipSync(original);
    const target = await backend('gzip', (req, res) => {
      req.resume();
      res.writeHead(200, {
        'content-type': 'text/plain',
        'content-encoding': 'gzip',
        'content-length': compressed.length,
      });
      res.end(compressed);
    });
    const running = await proxy(`[http]\nserver1=${target.address}\n`);
    const response = await request(`${running.url}/gz`, {
      dispatcher: harness.client,
      headers: { 'accept-encoding': 'gzip' },
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-encoding']).toBe('gzip');
    expect(response.headers['content-length']).toBe(String(compressed.length));
    const received = Buffer.from(await response.body.arrayBuffer());
    expect(received.equals(compressed)).toBe(true);
    expect(gunzipSync(received).equals(original)).toBe(true);
    expect(target.received[0]?.headers['accept-encoding']).toBe('gzip');
  });

  describe('front door', () => {
    function expectJsonRejection(text: string, status: number): void {
      const response = mustParse(text);
      expect(response.status).toBe(status);
      expect(headerValues(response, 'connection')).toEqual(['close']);
      expect(headerValues(response, 'content-type')).toEqual(['application/json']);
      expect(JSON.parse(response.body)).toEqual({ error: expect.any(String) as unknown });
    }

    it('answers 408 and closes when the headers do not arrive within header_timeout', async () => {
      const target = await backend('a');
      const running = await proxy(`[http]\nserver1=${target.address}\n`, 'header_timeout=300ms');
      const connection = await raw(running.address.port);
      const startedAt = Date.now();
      connection.write('GET /slow HTTP/1.1\r\nHost: example.test\r\nX-Partial: ');
      const text = await connection.waitForClose(WAIT_MS);
      const elapsed = Date.now() - startedAt;
      expectJsonRejection(text, 408);
      expect(elapsed).toBeGreaterThanOrEqual(250);
      expect(elapsed).toBeLessThan(WAIT_MS);
      expect(target.received).toHaveLength(0);
    });

    it('answers 431 to a header larger than 16 KiB', async () => {
      const target = await backend('a');
      const running = await proxy(`[http]\nserver1=${target.address}\n`);
      const text = await rawExchange(
        running.address.port,
        `GET /big HTTP/1.1\r\nHost: example.test\r\nX-Big: ${'a'.repeat(17 * 1024)}\r\n\r\n`,
        WAIT_MS,
      );
      expectJsonRejection(text, 431);
      expect(target.received).toHaveLength(0);
    });

    it.each([
      ['a malformed request line', 'GARBAGE\r\n\r\n'],
      ['a header name with a space', 'GET / HTTP/1.1\r\nHost: example.test\r\nBad Name: x\r\n\r\n'],
      ['a header line without a colon', 'GET / HTTP/1.1\r\nHost: example.test\r\nNoColon\r\n\r\n'],
    ])('answers 400 to %s', async (_label, bytes) => {
      const target = await backend('a');
      const running = await proxy(`[http]\nserver1=${target.address}\n`);
      const text = await rawExchange(running.address.port, bytes, WAIT_MS);
      expectJsonRejection(text, 400);
      expect(target.received).toHaveLength(0);
    });
  });
});
