import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { request } from 'undici';
import { answerWithDigest, rawExchange, unusedPort } from '../helpers/backend';
import { useHarness } from '../helpers/harness';
import { getJson } from '../helpers/proxy';

describe('HTTP forwarding', () => {
  const harness = useHarness();
  const { backend, proxy } = harness;

  async function spread(algorithm: string, times: number): Promise<[number, number]> {
    const [a, b] = [await backend('a'), await backend('b')];
    const running = await proxy(
      `[http]\nalgorithm=${algorithm}\nserver1=${a.address}\nserver2=${b.address}\n`,
    );
    for (let i = 0; i < times; i++) {
      const { status } = await getJson(harness.client, `${running.url}/n/${i}`);
      expect(status).toBe(200);
    }
    return [a.received.length, b.received.length];
  }

  it('splits 300 requests 150/150 with round-robin', async () => {
    expect(await spread('round-robin', 300)).toEqual([150, 150]);
  });

  it('gives each backend between 100 and 200 of 300 requests with random', async () => {
    const [a, b] = await spread('random', 300);
    expect(a + b).toBe(300);
    expect(a).toBeGreaterThanOrEqual(100);
    expect(a).toBeLessThanOrEqual(200);
  });

  it('passes method, path and query through unchanged', async () => {
    const target = await backend('a');
    const running = await proxy(`[http]\nserver1=${target.address}\n`);
    const path = '/some/path;p=1?b=2&a=1&a=%20x&empty=&flag&%E2%9C%93=%2F';
    const response = await request(`${running.url}${path}`, {
      method: 'PATCH',
      dispatcher: harness.client,
      body: 'x',
    });
    await response.body.text();
    expect(response.statusCode).toBe(200);
    expect(target.received[0]).toMatchObject({ method: 'PATCH', url: path });
  });

  it('delivers a 50 MiB upload byte-identical, streamed', async () => {
    const target = await backend('sink', answerWithDigest);
    const running = await proxy(`[http]\nserver1=${target.address}\n`);
    const chunk = randomBytes(1024 * 1024);
    const sent = createHash('sha256');
    const chunks = Array.from({ length: 50 }, (_, index) => {
      const piece = Buffer.from(chunk);
      piece.writeUInt32BE(index, 0);
      sent.update(piece);
      return piece;
    });
    const response = await request(`${running.url}/upload`, {
      method: 'POST',
      dispatcher: harness.client,
      body: Readable.from(chunks),
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(response.statusCode).toBe(200);
    expect(await response.body.json()).toEqual({
      bytes: 50 * 1024 * 1024,
      sha256: sent.digest('hex'),
    });
    expect(target.received[0]?.headers['transfer-encoding']).toBe('chunked');
  });

  it('streams a response body with repeated headers in order', async () => {
    const target = await backend('streamer', (req, res) => {
      req.resume();
      res.setHeader('set-cookie', ['a=1', 'b=2']);
      res.setHeader('x-custom', 'kept');
      res.writeHead(201);
      res.write('first,');
      setTimeout(() => res.end('second'), 20);
    });
    const running = await proxy(`[http]\nserver1=${target.address}\n`);
    const response = await request(`${running.url}/stream`, { dispatcher: harness.client });
    expect(response.statusCode).toBe(201);
    expect(response.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    expect(response.headers['x-custom']).toBe('kept');
    expect(await response.body.text()).toBe('first,second');
  });

  it('removes hop-by-hop headers and sets X-Forwarded-*', async () => {
    const target = await backend('a');
    const running = await proxy(`[http]\nserver1=${target.address}\n`);
    await rawExchange(
      running.address.port,
      'GET /h HTTP/1.1\r\nHost: example.test\r\nX-Forwarded-For: 203.0.113.9\r\n' +
        'X-Drop-Me: secret\r\nConnection: close, X-Drop-Me\r\nKeep-Alive: timeout=5\r\n' +
        'TE: trailers\r\nProxy-Connection: keep-alive\r\nX-Keep: yes\r\n\r\n',
    );
    const headers = target.received[0]?.headers ?? {};
    for (const name of ['x-drop-me', 'keep-alive', 'te', 'proxy-connection']) {
      expect(headers[name]).toBeUndefined();
    }
    expect(headers['x-keep']).toBe('yes');
    expect(headers['x-forwarded-for']).toBe('203.0.113.9, 127.0.0.1');
    expect(headers['x-forwarded-proto']).toBe('http');
    expect(headers['x-forwarded-host']).toBe('example.test');
    expect(headers.host).toBe('example.test');
  });

  it('answers 502 JSON when the backend refuses connections', async () => {
    const running = await proxy(`[http]\nserver1=127.0.0.1:${await unusedPort()}\n`);
    const { status, body, headers } = await getJson(harness.client, `${running.url}/x`);
    expect(status).toBe(502);
    expect(headers['content-type']).toBe('application/json');
    expect(body).toEqual({ error: 'bad gateway' });
    expect(running.events).toContainEqual(
      expect.objectContaining({ type: 'request', status: 502, backend: 'server1' }),
    );
  });

  it('answers 504 JSON when the backend does not answer within response_timeout', async () => {
    const target = await backend('silent', (req) => req.resume());
    const running = await proxy(`[http]\nresponse_timeout=300ms\nserver1=${target.address}\n`);
    const startedAt = Date.now();
    const { status, body } = await getJson(harness.client, `${running.url}/slow`);
    expect(status).toBe(504);
    expect(body).toEqual({ error: 'gateway timeout' });
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(290);
  });

  it('emits listening, request and stopped events', async () => {
    const target = await backend('a');
    const running = await proxy(`[http]\nserver1=${target.address}\n`);
    await getJson(harness.client, `${running.url}/e?x=1`);
    await running.stop();
    const lifecycle = running.events.filter((event) => !['worker', 'queue'].includes(event.type));
    expect(lifecycle.map((event) => event.type)).toEqual([
      'listening',
      'request',
      'draining',
      'stopped',
    ]);
    expect(lifecycle[1]).toMatchObject({
      method: 'GET',
      url: '/e?x=1',
      backend: 'server1',
      status: 200,
    });
    expect(lifecycle[3]).toEqual({ type: 'stopped', drained: true, abandoned: 0 });
  });

  it('lets an in-flight request finish when stopped', async () => {
    const target = await backend('slow', (req, res) => {
      req.resume();
      setTimeout(() => res.end('done'), 300);
    });
    const running = await proxy(`[http]\nserver1=${target.address}\n`);
    const pending = request(`${running.url}/slow`, { dispatcher: harness.client });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const stopped = running.proxy.stop();
    const response = await pending;
    expect(response.statusCode).toBe(200);
    expect(response.headers.connection).toBe('close');
    expect(await response.body.text()).toBe('done');
    expect(await stopped).toEqual({ drained: true, remaining: 0 });
  });

  it('sends HTTP requests to the [websocket] servers when there is no [http] section', async () => {
    const target = await backend('ws-only');
    const running = await proxy(`[websocket]\nserver1=${target.address}\n`);
    expect((await getJson(harness.client, `${running.url}/`)).body).toEqual({
      backend: 'ws-only',
      url: '/',
    });
  });
});
