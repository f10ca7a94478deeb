import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import type { ProxyEvent } from '../../src/events';
import { slowly, unusedPort } from '../helpers/backend';
import { startBlackhole } from '../helpers/blackhole';
import { useHarness } from '../helpers/harness';
import { getJson } from '../helpers/proxy';
import { sleep, waitUntil } from '../helpers/waitUntil';

const workerEvents = (events: ProxyEvent[], action: string) =>
  events.filter((event) => event.type === 'worker' && event.action === action);

describe('worker pools', () => {
  const harness = useHarness();
  const { backend, proxy } = harness;

  it('connects min_workers before any request', async () => {
    const target = await backend('a');
    await proxy(
      `[http]\nserver1=${target.address}\nserver1_min_workers=2\nserver1_max_workers=4\n`,
    );
    await waitUntil(() => target.connections.open === 2, 'two connections are open');
    await sleep(100);
    expect(target.connections).toMatchObject({ open: 2, total: 2 });
    expect(target.received).toHaveLength(0);
  });

  it('grows under load up to max_workers, serves a burst beyond workers and queue, and shrinks back to min when idle', async () => {
    const target = await backend('a', slowly(150));
    const running = await proxy(
      `[http]\nserver1=${target.address}\nserver1_min_workers=1\nserver1_max_workers=4\n` +
        `server1_buffer_size=8\nserver1_worker_timeout=300ms\n`,
    );
    const statuses = await Promise.all(
      Array.from({ length: 32 }, (_, index) =>
        request(`${running.url}/load/${index}`, { dispatcher: harness.client }).then(
          async (response) => {
            await response.body.text();
            return response.statusCode;
          },
        ),
      ),
    );
    expect(target.connections.peak).toBeLessThanOrEqual(4);
    expect(target.connections.peak).toBe(4);
    // 4 workers and 8 queue places; the other 20 wait in the pool's line.
    expect(statuses.filter((status) => status !== 200)).toEqual([]);
    await waitUntil(
      () => target.connections.open === 1,
      'the pool is back to one connection',
      3000,
    );
    expect(workerEvents(running.events, 'retired')).toHaveLength(3);
  });

  it('sends a request to the next backend when the first one is full; without a line, 503 at once', async () => {
    const [a, b] = [await backend('a', slowly(300)), await backend('b', slowly(300))];
    const running = await proxy(
      `[http]\nalgorithm=round-robin\nmax_workers=1\nbuffer_size=1\nmax_pending=0\n` +
        `server1=${a.address}\nserver2=${b.address}\n`,
    );
    const pending = Array.from({ length: 4 }, () => getJson(harness.client, `${running.url}/x`));
    const results = await Promise.all(pending);
    expect(results.map((result) => result.status)).toEqual([200, 200, 200, 200]);
    expect(a.received).toHaveLength(2);
    expect(b.received).toHaveLength(2);
    const fifth = await Promise.all(
      Array.from({ length: 5 }, () => getJson(harness.client, `${running.url}/y`)),
    );
    const unavailable = fifth.filter((result) => result.status === 503);
    expect(unavailable).toHaveLength(1);
    expect(unavailable[0]?.body).toEqual({ error: 'service unavailable' });
    expect(unavailable[0]?.headers['retry-after']).toBe('1');
  });

  it('answers 503 with Retry-After when a request waited queue_timeout', async () => {
    const target = await backend('a', slowly(1500));
    const running = await proxy(
      `[http]\nqueue_timeout=200ms\nserver1=${target.address}\nserver1_max_workers=1\n`,
    );
    const first = getJson(harness.client, `${running.url}/first`);
    await waitUntil(() => target.received.length === 1, 'the first request reached the backend');
    const second = await getJson(harness.client, `${running.url}/second`);
    expect(second.status).toBe(503);
    expect(second.headers['retry-after']).toBe('1');
    expect(second.body).toEqual({ error: 'service unavailable' });
    expect((await first).status).toBe(200);
    expect(target.received.map((received) => received.url)).toEqual(['/first']);
  });

  it('replaces a worker whose connection dies, keeping min_workers', async () => {
    const target = await backend('a');
    const running = await proxy(`[http]\nserver1=${target.address}\nserver1_min_workers=1\n`);
    await waitUntil(() => target.connections.open === 1, 'the first connection is open');
    target.dropConnections();
    await waitUntil(
      () => target.connections.total === 2 && target.connections.open === 1,
      'a replacement connects',
    );
    expect(workerEvents(running.events, 'lost')).toHaveLength(1);
    expect(running.events).toContainEqual(
      expect.objectContaining({ type: 'worker', action: 'spawned', reason: 'replace' }),
    );
    expect((await getJson(harness.client, `${running.url}/after`)).status).toBe(200);
  });

  it('with one backend refusing, serves every GET and every POST on the other', async () => {
    const alive = await backend('alive');
    const running = await proxy(
      // Passive ejection would take the refusing backend out after max_fails; this test is about
      // what each request sees while it is still in rotation.
      `[http]\nalgorithm=round-robin\npassive_health_check=false\n` +
        `server1=${alive.address}\nserver2=127.0.0.1:${await unusedPort()}\n`,
    );
    const gets = [];
    for (let i = 0; i < 200; i++)
      gets.push((await getJson(harness.client, `${running.url}/get/${i}`)).status);
    expect(gets.filter((status) => status === 200)).toHaveLength(200);
    const posts: number[] = [];
    for (let i = 0; i < 200; i++) {
      const response = await request(`${running.url}/post/${i}`, {
        method: 'POST',
        body: 'x',
        dispatcher: harness.client,
      });
      await response.body.text();
      posts.push(response.statusCode);
    }
    // Nothing was sent to the refusing backend, so a POST is as safe to place elsewhere as a GET.
    expect(posts.filter((status) => status === 200)).toHaveLength(200);
    expect(alive.received.filter((received) => received.method === 'POST')).toHaveLength(200);
  });

  it('answers 504 when connect_timeout passes', async () => {
    const blackhole = await startBlackhole();
    harness.onCleanup(() => blackhole.close());
    const running = await proxy(
      `[http]\nconnect_timeout=300ms\nserver1=127.0.0.1:${blackhole.port}\n`,
    );
    const { status, body } = await getJson(harness.client, `${running.url}/x`);
    expect(status).toBe(504);
    expect(body).toEqual({ error: 'gateway timeout' });
  });

  it('answers 502 when the only backend refuses, after its retry', async () => {
    const running = await proxy(`[http]\nserver1=127.0.0.1:${await unusedPort()}\n`);
    const { status, body } = await getJson(harness.client, `${running.url}/x`);
    expect(status).toBe(502);
    expect(body).toEqual({ error: 'bad gateway' });
  });

  describe('with a backend that closes kept-alive connections', () => {
    let server: Server;
    let port: number;
    const sockets = new Set<Socket>();
    let connections = 0;

    beforeEach(async () => {
      connections = 0;
      // Answers the first request on each connection; the second finds the connection closed,
      // as when a backend's keep-alive timer fires just as the proxy reuses the connection.
      server = createServer((socket) => {
        connections++;
        sockets.add(socket);
        socket.on('error', () => undefined);
        socket.on('close', () => sockets.delete(socket));
        let served = 0;
        socket.on('data', () => {
          served++;
          if (served === 1) {
            socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
          } else {
            socket.destroy();
          }
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as AddressInfo).port;
    });

    afterEach(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    it.each(['GET', 'POST'])(
      'retries a bodiless %s on a fresh connection instead of answering 502',
      async (method) => {
        const running = await proxy(`[http]\nserver1=127.0.0.1:${port}\nserver1_max_workers=1\n`);
        for (let i = 0; i < 3; i++) {
          const response = await request(`${running.url}/r/${i}`, {
            method,
            dispatcher: harness.client,
          });
          expect(response.statusCode).toBe(200);
          expect(await response.body.text()).toBe('ok');
        }
        expect(connections).toBeGreaterThanOrEqual(3);
      },
    );
  });

  it('aborts the upstream request when the client goes away, and the pool goes on', async () => {
    let upstreamClosed = false;
    const target = await backend('a', (req, res) => {
      req.resume();
      res.on('close', () => (upstreamClosed = !res.writableFinished));
      if (req.url === '/hang') return;
      res.end('fine');
    });
    const running = await proxy(`[http]\nserver1=${target.address}\nserver1_max_workers=1\n`);
    const controller = new AbortController();
    const hanging = request(`${running.url}/hang`, {
      dispatcher: harness.client,
      signal: controller.signal,
    });
    await waitUntil(() => target.received.length === 1, 'the request reached the backend');
    controller.abort();
    await expect(hanging).rejects.toThrow();
    await waitUntil(() => upstreamClosed, 'the upstream request is aborted');
    await waitUntil(
      () => running.events.some((event) => event.type === 'request' && event.status === 499),
      'the request is logged as 499',
    );
    const after = await request(`${running.url}/next`, { dispatcher: harness.client });
    expect(after.statusCode).toBe(200);
    expect(await after.body.text()).toBe('fine');
  });

  it('cuts the client response when the backend dies mid-response, then replaces the worker', async () => {
    const target = await backend('a', (req, res) => {
      req.resume();
      if (req.url === '/die') {
        res.writeHead(200, { 'content-length': '100' });
        res.write('partial');
        setTimeout(() => res.socket?.destroy(), 50);
        return;
      }
      res.end('whole');
    });
    const running = await proxy(`[http]\nserver1=${target.address}\n`);
    const response = await request(`${running.url}/die`, { dispatcher: harness.client });
    expect(response.statusCode).toBe(200);
    await expect(response.body.text()).rejects.toThrow();
    const after = await request(`${running.url}/next`, { dispatcher: harness.client });
    expect(await after.body.text()).toBe('whole');
    expect(workerEvents(running.events, 'lost').length).toBeGreaterThanOrEqual(1);
  });

  it('publishes queue depth changes', async () => {
    const target = await backend('a', slowly(200));
    const running = await proxy(`[http]\nserver1=${target.address}\nserver1_max_workers=1\n`);
    await Promise.all([
      getJson(harness.client, `${running.url}/1`),
      getJson(harness.client, `${running.url}/2`),
    ]);
    const depths = running.events.flatMap((event) => (event.type === 'queue' ? [event.depth] : []));
    expect(depths).toEqual([1, 0]);
  });
});
