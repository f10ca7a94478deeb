import type { IncomingMessage, ServerResponse } from 'node:http';
import { request } from 'undici';
import type { ProxyEvent } from '../../src/events';
import type { BackendHandler } from '../helpers/backend';
import { useHarness } from '../helpers/harness';
import { getJson, type RunningProxy } from '../helpers/proxy';
import { waitUntil } from '../helpers/waitUntil';

/** A backend whose health answer and traffic answer the test can change. */
function controllable(name: string) {
  const state = { healthy: true, trafficStatus: 200, report: undefined as object | undefined };
  const handler: BackendHandler = (req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on('end', () => {
      const health = req.url === '/healthCheck';
      const status = health ? (state.healthy ? 200 : 503) : state.trafficStatus;
      const body = health
        ? { status: state.healthy ? 200 : 503, ...state.report }
        : { backend: name };
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    });
  };
  return { state, handler };
}

const healthEvents = (events: ProxyEvent[]) =>
  events.flatMap((event) => (event.type === 'health' ? [event] : []));

async function countBackends(
  running: RunningProxy,
  client: Parameters<typeof getJson>[0],
  times: number,
) {
  const counts: Record<string, number> = {};
  for (let i = 0; i < times; i++) {
    const { status, body } = await getJson(client, `${running.url}/c/${i}`);
    const name = status === 200 ? (body as { backend: string }).backend : `status ${status}`;
    counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}

describe('health and balancing', () => {
  const harness = useHarness();
  const { backend, proxy } = harness;

  it('takes a backend whose health checks fail out of rotation within interval × fall + timeout, and back within interval × rise + timeout', async () => {
    const a = controllable('a');
    const b = controllable('b');
    const [backendA, backendB] = [await backend('a', a.handler), await backend('b', b.handler)];
    const running = await proxy(
      `[http]\nalgorithm=round-robin\nenable_health_check=true\nhealth_check_interval=200ms\n` +
        `health_check_timeout=100ms\nhealth_check_fall=1\nhealth_check_rise=2\n` +
        `server1=${backendA.address}\nserver2=${backendB.address}\n`,
    );
    await waitUntil(
      () => backendA.received.some((r) => r.url === '/healthCheck'),
      'the first probe',
    );
    a.state.healthy = false;
    const failedAt = Date.now();
    await waitUntil(
      () => healthEvents(running.events).length === 1,
      'server1 leaves rotation',
      2000,
    );
    const outAfter = Date.now() - failedAt;
    expect(healthEvents(running.events)[0]).toEqual({
      type: 'health',
      pool: 'http',
      backend: 'server1',
      healthy: false,
      reason: 'health check: status 503',
      cause: 'health-check',
    });
    expect(outAfter).toBeLessThanOrEqual(200 * 1 + 100 + 100);
    expect(await countBackends(running, harness.client, 20)).toEqual({ b: 20 });

    a.state.healthy = true;
    const recoveredAt = Date.now();
    await waitUntil(() => healthEvents(running.events).length === 2, 'server1 returns', 2000);
    expect(Date.now() - recoveredAt).toBeLessThanOrEqual(200 * 2 + 100 + 100);
    expect(healthEvents(running.events)[1]).toEqual({
      type: 'health',
      pool: 'http',
      backend: 'server1',
      healthy: true,
    });
    expect(await countBackends(running, harness.client, 20)).toEqual({ a: 10, b: 10 });
  });

  it('answers 503 "no healthy backend" at once when nothing is in rotation', async () => {
    const a = controllable('a');
    a.state.healthy = false;
    const target = await backend('a', a.handler);
    const running = await proxy(
      `[http]\nenable_health_check=true\nhealth_check_interval=100ms\nserver1=${target.address}\n`,
    );
    await waitUntil(() => healthEvents(running.events).length === 1, 'the only backend is out');
    const { status, body, headers } = await getJson(harness.client, `${running.url}/x`);
    expect(status).toBe(503);
    expect(body).toEqual({ error: 'no healthy backend' });
    expect(headers['retry-after']).toBe('1');
    expect(target.received.filter((r) => r.url === '/x')).toHaveLength(0);
  });

  it('loses no request when a backend is killed during a steady stream of GETs', async () => {
    const backends = [await backend('a'), await backend('b'), await backend('c')];
    const running = await proxy(
      `[http]\nalgorithm=round-robin\nenable_health_check=true\nhealth_check_interval=200ms\n` +
        backends.map((b, index) => `server${index + 1}=${b.address}\n`).join(''),
    );
    const statuses: number[] = [];
    const deadline = Date.now() + 1500;
    const loops = Array.from({ length: 4 }, async () => {
      for (let i = 0; i < 400 && Date.now() < deadline; i++) {
        const response = await request(`${running.url}/steady/${i}`, {
          dispatcher: harness.client,
        });
        await response.body.text();
        statuses.push(response.statusCode);
      }
    });
    await waitUntil(() => statuses.length >= 100, 'traffic is flowing');
    await backends[1]?.close();
    await Promise.all(loops);
    expect(statuses.length).toBeGreaterThan(200);
    const failed = running.events.filter(
      (event) => event.type === 'request' && event.status !== 200,
    );
    expect(failed).toEqual([]);
    expect(statuses.filter((status) => status !== 200)).toEqual([]);
  });

  it('ejects a backend answering 500 after max_fails and takes it back after eject_time', async () => {
    const a = controllable('a');
    const b = controllable('b');
    a.state.trafficStatus = 500;
    const [backendA, backendB] = [await backend('a', a.handler), await backend('b', b.handler)];
    const running = await proxy(
      `[http]\nalgorithm=round-robin\nmax_fails=3\neject_time=400ms\n` +
        `server1=${backendA.address}\nserver2=${backendB.address}\n`,
    );
    const before = await countBackends(running, harness.client, 10);
    expect(before).toEqual({ 'status 500': 3, b: 7 });
    expect(healthEvents(running.events)).toEqual([
      expect.objectContaining({
        backend: 'server1',
        healthy: false,
        reason: 'ejected after 3 failures for 400 ms',
      }),
    ]);
    a.state.trafficStatus = 200;
    await waitUntil(() => healthEvents(running.events).length === 2, 'server1 returns', 2000);
    expect(healthEvents(running.events)[1]).toMatchObject({ backend: 'server1', healthy: true });
    expect(await countBackends(running, harness.client, 10)).toEqual({ a: 5, b: 5 });
  });

  it('counts a backend that dies mid-response as a passive failure and ejects it', async () => {
    const dying: BackendHandler = (req, res) => {
      req.resume();
      res.writeHead(200, { 'content-length': '1000' });
      res.write('partial');
      setTimeout(() => res.socket?.destroy(), 10);
    };
    const [bad, good] = [await backend('bad', dying), await backend('good')];
    const running = await proxy(
      `[http]\nalgorithm=round-robin\nmax_fails=2\neject_time=30s\n` +
        `server1=${bad.address}\nserver2=${good.address}\n`,
    );
    for (let i = 0; i < 6; i++) {
      const response = await request(`${running.url}/m/${i}`, { dispatcher: harness.client });
      await response.body.text().catch(() => undefined);
    }
    expect(healthEvents(running.events)).toEqual([
      expect.objectContaining({ backend: 'server1', healthy: false }),
    ]);
    expect(bad.received).toHaveLength(2);
  });

  it('ejects at most half of a pool: with two of three backends failing only one is ejected', async () => {
    const handlers = [controllable('a'), controllable('b'), controllable('c')];
    handlers[0]!.state.trafficStatus = 500;
    handlers[1]!.state.trafficStatus = 500;
    const started = [];
    for (const [index, handler] of handlers.entries())
      started.push(await backend('abc'[index] ?? '', handler.handler));
    const running = await proxy(
      `[http]\nalgorithm=round-robin\nmax_fails=2\neject_time=30s\n` +
        started.map((b, index) => `server${index + 1}=${b.address}\n`).join(''),
    );
    await countBackends(running, harness.client, 30);
    const ejected = healthEvents(running.events).filter((event) => !event.healthy);
    expect(ejected).toHaveLength(1);
  });

  it('splits weighted round robin traffic by reported headroom with dynamic_weights', async () => {
    const a = controllable('a');
    const b = controllable('b');
    a.state.report = { cpu: 0.9 };
    b.state.report = { cpu: 0.1 };
    const [backendA, backendB] = [await backend('a', a.handler), await backend('b', b.handler)];
    const running = await proxy(
      `[http]\nalgorithm=weighted-round-robin\nenable_health_check=true\nhealth_check_interval=100ms\n` +
        `dynamic_weights=true\nserver1=${backendA.address}\nserver2=${backendB.address}\n`,
    );
    await waitUntil(
      () =>
        backendA.received.filter((r) => r.url === '/healthCheck').length >= 2 &&
        backendB.received.filter((r) => r.url === '/healthCheck').length >= 2,
      'two probe rounds',
    );
    const counts = await countBackends(running, harness.client, 500);
    const ratio = (counts.b ?? 0) / (counts.a ?? 1);
    expect(ratio).toBeGreaterThanOrEqual(9 * 0.8);
    expect(ratio).toBeLessThanOrEqual(9 * 1.2);
  });
});
