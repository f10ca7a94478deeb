import { answerWithName, slowly, type BackendHandler, type TestBackend } from '../helpers/backend';
import { useHarness } from '../helpers/harness';
import { eventsOf, send, type RunningProxy } from '../helpers/proxy';
import { reloadIni, roundRobin, spread } from '../helpers/reload';
import { sleep, waitUntil } from '../helpers/waitUntil';

/** `/slow` is answered after `ms`, everything else at once. */
const slowPath =
  (ms: number): BackendHandler =>
  (req, res, name) =>
    (req.url === '/slow' ? slowly(ms) : answerWithName)(req, res, name);

describe('reload: servers', () => {
  const harness = useHarness();

  it('changed numbers: a lower max_workers retires workers as they become idle, a higher min_workers connects at once', async () => {
    const a = await harness.backend('a', slowly(300));
    const limits = (min: number, max: number) =>
      roundRobin(
        `server1=${a.address}`,
        `min_workers=${min}`,
        `max_workers=${max}`,
        'worker_timeout=60',
      );
    const running = await harness.proxy(limits(1, 4));
    expect(a.connections.open).toBe(1);
    const answers = Promise.all(
      [1, 2, 3, 4].map((i) => send(harness.client, `${running.url}/w${i}`)),
    );
    await waitUntil(() => a.received.length === 4, 'four requests run on four workers');
    expect(a.connections.open).toBe(4);

    expect(await reloadIni(running, limits(1, 2))).toBe('http: server1 max_workers');
    // Busy workers are not cut: their requests finish on them.
    expect(a.connections.open).toBe(4);
    expect((await answers).map((answer) => answer.status)).toEqual([200, 200, 200, 200]);
    await waitUntil(() => a.connections.open === 2, 'the idle workers above max retire', 3000);
    expect(eventsOf(running, 'worker').filter((e) => e.action === 'retired')).toHaveLength(2);

    const total = a.connections.total;
    expect(await reloadIni(running, limits(3, 4))).toBe('http: server1 min_workers/max_workers');
    await waitUntil(() => a.connections.open === 3, 'min_workers connect without a request');
    expect(a.connections.total).toBe(total + 1);
    expect(a.received).toHaveLength(4);
  });

  it('changed address under the same name: the old address gets no new requests, the new one does', async () => {
    const [a, b] = [await harness.backend('a'), await harness.backend('b')];
    const running = await harness.proxy(roundRobin(`server1=${a.address}`));
    expect(await spread(running, harness.client, 2)).toEqual({ a: 2 });
    expect(await reloadIni(running, roundRobin(`server1=${b.address}`))).toBe(
      'http: server1 address',
    );
    expect(await spread(running, harness.client, 4)).toEqual({ b: 4 });
    expect(a.received).toHaveLength(2);
    await waitUntil(() => a.connections.open === 0, 'the old address is closed');
  });

  it('changed address: failures of the draining old address do not count against the new one', async () => {
    // The old address answers 500 after 200 ms: one failure ejects with max_fails=1.
    const a = await harness.backend('a', (req, res) => {
      req.resume();
      const timer = setTimeout(() => res.writeHead(500).end('down'), 200);
      res.on('close', () => clearTimeout(timer));
    });
    const [b, c] = [await harness.backend('b'), await harness.backend('c')];
    const servers = (first: string) =>
      roundRobin(`server1=${first}`, `server2=${c.address}`, 'max_fails=1', 'retries=0');
    const running = await harness.proxy(servers(a.address));
    const inFlight = [1, 2].map((i) => send(harness.client, `${running.url}/f${i}`));
    await waitUntil(() => a.received.length === 1, 'one request runs on the old address');
    expect(await reloadIni(running, servers(b.address))).toBe('http: server1 address');
    const statuses = (await Promise.all(inFlight)).map((answer) => answer.status);
    expect(statuses.sort()).toEqual([200, 500]);
    expect(eventsOf(running, 'health')).toEqual([]);
    expect(await spread(running, harness.client, 4)).toEqual({ b: 2, c: 2 });
  });

  /** `[http]` with round-robin and quick health checks that need 3 passing probes to rise. */
  const checked = (...servers: string[]) =>
    roundRobin(
      'enable_health_check=true',
      'health_check_interval=50ms',
      'health_check_rise=3',
      ...servers,
    );

  /**
   * Sends requests until `backend` serves one (at most 300); resolves with their statuses and
   * how many probes `backend` had answered before its first request.
   */
  async function untilServedBy(running: RunningProxy, backend: TestBackend) {
    const statuses: number[] = [];
    const served = () => backend.received.findIndex((request) => request.url !== '/healthCheck');
    for (let i = 0; i < 300 && served() < 0; i++) {
      statuses.push((await send(harness.client, `${running.url}/n${i}`)).status);
      await sleep(5);
    }
    const probesBefore = backend.received.slice(0, Math.max(0, served()));
    expect(probesBefore.every((request) => request.url === '/healthCheck')).toBe(true);
    return { statuses, probesBefore: served() < 0 ? -1 : probesBefore.length };
  }

  it('changed address: requests waiting in the pool line go to the new address, not the draining old one', async () => {
    const a = await harness.backend('a', slowly(200));
    const b = await harness.backend('b', slowly(800));
    const oneWorker = (address: string) =>
      roundRobin(`server1=${address}`, 'min_workers=1', 'max_workers=1', 'buffer_size=1');
    const running = await harness.proxy(oneWorker(a.address));
    const get = (path: string) => send(harness.client, `${running.url}${path}`);
    // r1 runs on a, r2 waits in a's queue, r3 in the pool's line.
    const early = [get('/r1'), get('/r2'), get('/r3')];
    await waitUntil(() => a.received.length === 1, 'r1 runs on a');
    await reloadIni(running, oneWorker(b.address));
    await waitUntil(() => b.received.length === 1, 'r3 runs on b');
    // r4 waits in b's queue, r5 in the line while a finishes r2 and frees its worker.
    const late = [get('/r4'), get('/r5')];
    const answers = await Promise.all([...early, ...late]);
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200]);
    expect(a.received.map((request) => request.url)).toEqual(['/r1', '/r2']);
    expect(b.received.map((request) => request.url)).toEqual(['/r3', '/r4', '/r5']);
  });

  it('added server with health checks: in rotation only after health_check_rise passing probes', async () => {
    const [a, b] = [await harness.backend('a'), await harness.backend('b')];
    const running = await harness.proxy(checked(`server1=${a.address}`));
    await reloadIni(running, checked(`server1=${a.address}`, `server2=${b.address}`));
    const { statuses, probesBefore } = await untilServedBy(running, b);
    expect(probesBefore).toBeGreaterThanOrEqual(3);
    expect(statuses.length).toBeGreaterThan(1);
    expect(statuses.filter((status) => status !== 200)).toEqual([]);
    // The new server waits for its probes, then comes in; server1 keeps its health throughout.
    expect(eventsOf(running, 'health')).toEqual([
      expect.objectContaining({ backend: 'server2', healthy: false }),
      expect.objectContaining({ backend: 'server2', healthy: true }),
    ]);
  });

  it('changed address with health checks: the new address starts afresh and enters after its probes', async () => {
    const [a, b, c] = [
      await harness.backend('a'),
      await harness.backend('b'),
      await harness.backend('c'),
    ];
    const running = await harness.proxy(checked(`server1=${a.address}`, `server2=${b.address}`));
    expect(await spread(running, harness.client, 2)).toEqual({ a: 1, b: 1 });
    expect(await reloadIni(running, checked(`server1=${a.address}`, `server2=${c.address}`))).toBe(
      'http: server2 address',
    );
    const { statuses, probesBefore } = await untilServedBy(running, c);
    expect(probesBefore).toBeGreaterThanOrEqual(3);
    expect(statuses.filter((status) => status !== 200)).toEqual([]);
    expect(b.received.filter((request) => request.url !== '/healthCheck')).toHaveLength(1);
  });

  it('health check settings: a longer health_check_timeout applies to the next probe', async () => {
    const a = await harness.backend('a');
    const slowProbes: BackendHandler = (req, res, name) =>
      (req.url === '/healthCheck' ? slowly(1200) : answerWithName)(req, res, name);
    const b = await harness.backend('b', slowProbes);
    const probing = (timeout: string) =>
      roundRobin(
        'enable_health_check=true',
        'health_check_interval=50ms',
        `health_check_timeout=${timeout}`,
        `server1=${a.address}`,
        `server2=${b.address}`,
      );
    const running = await harness.proxy(probing('200ms'));
    const probesOfB = (from: number) =>
      running.events
        .slice(from)
        .flatMap((event) =>
          event.type === 'health-check' && event.backend === 'server2' ? [event] : [],
        );
    await waitUntil(() => probesOfB(0).length > 0, 'a probe of server2 times out');
    expect(probesOfB(0)[0]?.up).toBe(false);

    const reloadedAt = running.events.length;
    expect(await reloadIni(running, probing('5s'))).toBe('http: health_check_timeout');
    await waitUntil(() => probesOfB(reloadedAt).length > 0, 'a probe of server2 ends', 5000);
    expect(probesOfB(reloadedAt)[0]).toMatchObject({ up: true, healthy: true });
    expect(await spread(running, harness.client, 2)).toEqual({ a: 1, b: 1 });
  });

  it('a server re-added while it drains keeps its connection: the drain is cancelled', async () => {
    const a = await harness.backend('a', slowPath(600));
    const b = await harness.backend('b', slowPath(600));
    const both = roundRobin(`server1=${a.address}`, `server2=${b.address}`);
    const running = await harness.proxy(both, 'drain_timeout=5');
    expect(b.connections.open).toBe(1);
    const total = b.connections.total;
    const slow = [
      send(harness.client, `${running.url}/slow`),
      send(harness.client, `${running.url}/slow`),
    ];
    await waitUntil(() => b.received.length === 1, 'a slow request runs on b');

    expect(await reloadIni(running, roundRobin(`server1=${a.address}`), 'drain_timeout=5')).toBe(
      'http: -server2',
    );
    expect(await reloadIni(running, both, 'drain_timeout=5')).toBe('http: +server2');
    expect((await Promise.all(slow)).map((answer) => answer.status)).toEqual([200, 200]);
    // A drain that went on would close b's worker once its request finished.
    await sleep(200);
    expect(b.connections.open).toBe(1);
    expect(await spread(running, harness.client, 4)).toEqual({ a: 2, b: 2 });
    expect(b.connections.total).toBe(total);
  });

  it('pool settings: a lower response_timeout applies to the next request on an open connection', async () => {
    const a = await harness.backend('a', slowPath(3000));
    const timeout = (value: string) =>
      roundRobin(`server1=${a.address}`, `response_timeout=${value}`, 'retries=0');
    const running = await harness.proxy(timeout('5s'));
    expect((await send(harness.client, `${running.url}/fast`)).status).toBe(200);
    expect(await reloadIni(running, timeout('500ms'))).toBe('http: response_timeout');
    // undici checks response timeouts about once a second: 3 s is well past 500 ms, short of 5 s.
    expect((await send(harness.client, `${running.url}/slow`)).status).toBe(504);
    expect(a.connections.total).toBe(1);
  });
});
