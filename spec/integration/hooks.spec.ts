import { request } from 'undici';
import { NEVER, delay, filter, finalize, map, mergeMap, of, tap, timer } from 'rxjs';
import type { ProxyHooks, ProxyRequest } from '../../src/hooks/types';
import { reply } from '../../src/hooks/types';
import type { TestBackend } from '../helpers/backend';
import { useHarness } from '../helpers/harness';
import { iniWith, send, startProxy, type RunningProxy } from '../helpers/proxy';
import { sleep, waitUntil } from '../helpers/waitUntil';

describe('hooks given to createProxy', () => {
  const harness = useHarness();
  const cleanup = harness.onCleanup;

  async function setUp(
    hooks: ProxyHooks,
    backendCount = 1,
    extra = '',
  ): Promise<{ proxy: RunningProxy; backends: TestBackend[] }> {
    const backends: TestBackend[] = [];
    for (let i = 0; i < backendCount; i++) {
      backends.push(await harness.backend(`b${i + 1}`));
    }
    const servers = backends.map((b, i) => `server${i + 1}=${b.address}\n`).join('');
    const proxy = await startProxy(iniWith(`[http]\nalgorithm=round-robin\n${extra}${servers}`), {
      hooks,
    });
    cleanup(() => proxy.stop());
    return { proxy, backends };
  }

  it('changes headers and rewrites the URL before the request goes to the backend', async () => {
    const { proxy, backends } = await setUp({
      request: map((req: ProxyRequest) => {
        req.headers['x-hooked'] = '1';
        delete req.headers['x-secret'];
        req.url = `/v2${req.url}`;
        return req;
      }),
    });
    const answer = await send(harness.client, `${proxy.url}/items?q=1`, { 'x-secret': 'no' });
    expect(answer.status).toBe(200);
    const seen = backends[0]?.received[0];
    expect(seen?.url).toBe('/v2/items?q=1');
    expect(seen?.headers['x-hooked']).toBe('1');
    expect(seen?.headers['x-secret']).toBeUndefined();
    expect(seen?.headers['x-forwarded-for']).toBe('127.0.0.1');
  });

  it('answers with a reply without touching a backend', async () => {
    const { proxy, backends } = await setUp({
      request: map((req: ProxyRequest) =>
        req.path.startsWith('/admin') ? reply(req, 401, { error: 'login first' }) : req,
      ),
    });
    const refused = await send(harness.client, `${proxy.url}/admin/x`);
    expect(refused).toMatchObject({ status: 401, body: '{"error":"login first"}' });
    expect(refused.headers['content-type']).toBe('application/json');
    expect((await send(harness.client, `${proxy.url}/public`)).status).toBe(200);
    expect(backends[0]?.received.map((r) => r.url)).toEqual(['/public']);
  });

  it('fails only the request whose hook throws, among 200 concurrent good ones', async () => {
    const { proxy } = await setUp({
      request: map((req: ProxyRequest) => {
        if (req.path === '/bad') throw new Error('boom');
        return req;
      }),
    });
    const urls = Array.from({ length: 201 }, (_, i) => (i === 100 ? '/bad' : `/good/${i}`));
    const answers = await Promise.all(
      urls.map((url) => send(harness.client, `${proxy.url}${url}`)),
    );
    const failed = answers.filter((answer) => answer.status !== 200);
    expect(failed).toEqual([
      expect.objectContaining({ status: 500, body: '{"error":"hook failed"}' }),
    ]);
    expect(proxy.events).toContainEqual({
      type: 'internal-error',
      source: 'request hook',
      message: 'boom',
    });
  });

  it('answers 500 for a reply that would split the response or has no valid status', async () => {
    const { proxy } = await setUp({
      request: map((req: ProxyRequest) =>
        req.path === '/split'
          ? reply(req, 200, 'x', { 'x-evil': 'a\r\nset-cookie: stolen=1' })
          : reply(req, 99, 'x'),
      ),
    });
    for (const path of ['/split', '/status']) {
      const answer = await send(harness.client, `${proxy.url}${path}`);
      expect(answer).toMatchObject({ status: 500, body: '{"error":"hook failed"}' });
      expect(answer.headers['set-cookie']).toBeUndefined();
    }
    expect(proxy.events.filter((event) => event.type === 'internal-error')).toHaveLength(2);
  });

  it('runs an asynchronous hook for 500 requests in flight at once', async () => {
    const { proxy, backends } = await setUp(
      {
        request: mergeMap((req: ProxyRequest) =>
          timer(20).pipe(
            map(() => {
              req.headers['x-checked'] = 'yes';
              return req;
            }),
          ),
        ),
      },
      2,
      'max_workers=20\n',
    );
    const answers = await Promise.all(
      Array.from({ length: 500 }, (_, i) => send(harness.client, `${proxy.url}/async/${i}`)),
    );
    expect(answers.every((answer) => answer.status === 200)).toBe(true);
    const seen = backends.flatMap((backend) => backend.received);
    expect(seen).toHaveLength(500);
    expect(seen.every((received) => received.headers['x-checked'] === 'yes')).toBe(true);
  });

  it('answers 500 for a request a hook filtered out or completed without a value', async () => {
    const { proxy } = await setUp({
      request: filter((req: ProxyRequest) => req.path !== '/dropped'),
    });
    expect(await send(harness.client, `${proxy.url}/dropped`)).toMatchObject({
      status: 500,
      body: '{"error":"hook failed"}',
    });
    expect((await send(harness.client, `${proxy.url}/kept`)).status).toBe(200);
  });

  it('pins a request to the backend a hook names; an unknown name gets 503', async () => {
    const { proxy, backends } = await setUp(
      {
        request: map((req: ProxyRequest) => {
          req.backend = req.headers['x-pin'] as string | undefined;
          return req;
        }),
      },
      2,
    );
    for (let i = 0; i < 6; i++) {
      expect(
        (await send(harness.client, `${proxy.url}/p/${i}`, { 'x-pin': 'server2' })).status,
      ).toBe(200);
    }
    expect(backends[0]?.received).toHaveLength(0);
    expect(backends[1]?.received).toHaveLength(6);
    expect((await send(harness.client, `${proxy.url}/u`, { 'x-pin': 'server9' })).status).toBe(503);
  });

  it('lets response hooks change the status and headers, synchronously or not', async () => {
    const { proxy } = await setUp({
      response: [
        map((res) => {
          res.headers['x-served-by'] = res.backend;
          return res;
        }),
        mergeMap((res) =>
          of(res).pipe(
            delay(10),
            tap(() => {
              if (res.request.path === '/teapot') res.status = 418;
            }),
          ),
        ),
      ],
    });
    const plain = await send(harness.client, `${proxy.url}/x`);
    expect(plain.status).toBe(200);
    expect(plain.headers['x-served-by']).toBe('server1');
    expect(JSON.parse(plain.body)).toEqual({ backend: 'b1', url: '/x' });
    const teapot = await send(harness.client, `${proxy.url}/teapot`);
    expect(teapot.status).toBe(418);
    expect(JSON.parse(teapot.body)).toEqual({ backend: 'b1', url: '/teapot' });
  });

  it('drops a request whose client went away while an asynchronous hook ran', async () => {
    let unsubscribed = 0;
    const { proxy, backends } = await setUp({
      request: mergeMap(() => NEVER.pipe(finalize(() => unsubscribed++))),
    });
    const abandoned = new AbortController();
    const pending = request(`${proxy.url}/slow`, {
      dispatcher: harness.client,
      signal: abandoned.signal,
    }).catch(() => undefined);
    await sleep(100);
    abandoned.abort();
    await pending;
    await waitUntil(() => unsubscribed === 1, 'the hook is unsubscribed');
    expect(backends[0]?.received).toHaveLength(0);
  });

  it('carries meta to the request event and gives events to the events hook off the hot path', async () => {
    const seen: string[] = [];
    const { proxy } = await setUp({
      request: map((req: ProxyRequest) => {
        req.meta.user = 'ann';
        return req;
      }),
      events: (events$) =>
        events$.pipe(
          tap((event) => {
            seen.push(event.type);
            if (event.type === 'request') throw new Error('subscriber bug');
          }),
        ),
    });
    expect((await send(harness.client, `${proxy.url}/m`)).status).toBe(200);
    await waitUntil(() => seen.includes('request'), 'the events hook sees the request');
    expect(proxy.events).toContainEqual(
      expect.objectContaining({ type: 'request', url: '/m', meta: { user: 'ann' } }),
    );
    expect(proxy.events).toContainEqual(
      expect.objectContaining({ type: 'internal-error', source: 'events hook' }),
    );
    expect((await send(harness.client, `${proxy.url}/after`)).status).toBe(200);
  });

  it('lets a healthySet hook take a backend out of rotation', async () => {
    const { proxy, backends } = await setUp(
      {
        healthySet: map((snapshot) => ({
          ...snapshot,
          healthy: snapshot.healthy.filter((name) => name !== 'server1'),
        })),
      },
      2,
    );
    for (let i = 0; i < 4; i++)
      expect((await send(harness.client, `${proxy.url}/h/${i}`)).status).toBe(200);
    expect(backends[0]?.received).toHaveLength(0);
    expect(backends[1]?.received).toHaveLength(4);
  });
});
