import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { firstValueFrom, take, toArray, type Observable } from 'rxjs';
import { createHealthProber, type HealthProber } from '../../src/adapters/healthProbe';
import { SharedProbes, type ProbeKey } from '../../src/adapters/sharedProbes';
import { buildConfig } from '../../src/config/buildConfig';
import type { PoolConfig } from '../../src/config';
import type { ProbeResult } from '../../src/health/probeResult';
import { activeHealth } from '../../src/streams/activeHealth';
import { sleep, waitUntil } from '../helpers/waitUntil';

const INTERVAL_MS = 250;

/** A health endpoint counting hits per path; `delayMs` holds each answer back. */
async function countingBackend() {
  const state = { delayMs: 0, hits: new Map<string, number>(), aborted: 0, answered: 0 };
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '';
    state.hits.set(path, (state.hits.get(path) ?? 0) + 1);
    const answer = () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"status":200}', () => state.answered++);
    };
    res.on('close', () => {
      if (!res.writableFinished) state.aborted++;
    });
    if (state.delayMs > 0) setTimeout(answer, state.delayMs);
    else answer();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    state,
    address: `127.0.0.1:${port}`,
    hits: (path = '/healthCheck') => state.hits.get(path) ?? 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

type Backend = Awaited<ReturnType<typeof countingBackend>>;

function poolOf(lines: Record<string, string>): PoolConfig {
  const result = buildConfig(
    {
      frontend: { host: '127.0.0.1', port: '0' },
      http: {
        enable_health_check: 'true',
        health_check_interval: String(INTERVAL_MS / 1000),
        health_check_timeout: '1',
        ...lines,
      },
    },
    'test.ini',
    {},
  );
  if (!result.ok || !result.config.http) throw new Error(JSON.stringify(result));
  return result.config.http;
}

const once = (probe: Observable<ProbeResult>) => firstValueFrom(probe);

describe('SharedProbes', () => {
  let backend: Backend;
  let shared: SharedProbes;
  const probers: HealthProber[] = [];
  /** Closes a prober before the test ends (undici rejects a second close). */
  const closeEarly = (prober: HealthProber) => {
    probers.splice(probers.indexOf(prober), 1);
    return prober.close();
  };
  /** A prober over a pool naming the test backend `name`, with extra pool settings. */
  const proberOf = (name: string, lines: Record<string, string> = {}, share = true) => {
    const pool = poolOf({ [name]: backend.address, ...lines });
    const prober = createHealthProber(() => pool, share ? shared : undefined);
    probers.push(prober);
    return prober;
  };

  beforeEach(async () => {
    backend = await countingBackend();
    shared = new SharedProbes();
  });

  afterEach(async () => {
    await Promise.all(probers.splice(0).map((prober) => prober.close()));
    await backend.close();
  });

  it('probes a server of two pools once per interval', async () => {
    const a = proberOf('server1');
    const b = proberOf('server2');
    const options = { intervalMs: INTERVAL_MS, timeoutMs: 1000, rise: 1, fall: 1 };
    const rounds = 3;
    const first = firstValueFrom(
      activeHealth(['server1'], a.probe, options).pipe(take(rounds), toArray()),
    );
    await sleep(INTERVAL_MS * 0.4);
    const second = firstValueFrom(
      activeHealth(['server2'], b.probe, options).pipe(take(rounds), toArray()),
    );
    const [resultsA, resultsB] = await Promise.all([first, second]);

    expect(resultsA.map((result) => [result.backend, result.up])).toEqual(
      Array.from({ length: rounds }, () => ['server1', true]),
    );
    expect(resultsB.map((result) => [result.backend, result.up])).toEqual(
      Array.from({ length: rounds }, () => ['server2', true]),
    );
    // One request per round; a very late timer may cost one more, never one per pool.
    expect(backend.hits()).toBeGreaterThanOrEqual(rounds);
    expect(backend.hits()).toBeLessThanOrEqual(rounds + 1);
  });

  it('reuses a recent result under each caller’s backend name, and probes again after it', async () => {
    const a = proberOf('server1');
    const b = proberOf('server7');
    const fromA = await once(a.probe('server1'));
    const fromB = await once(b.probe('server7'));
    expect(fromA).toMatchObject({ backend: 'server1', up: true });
    expect(fromB).toMatchObject({ backend: 'server7', up: true });
    expect(backend.hits()).toBe(1);

    await sleep(INTERVAL_MS);
    await once(b.probe('server7'));
    expect(backend.hits()).toBe(2);
  });

  it.each([
    ['path', { health_check_path: '/other' }],
    ['interval', { health_check_interval: '0.3' }],
    ['timeout', { health_check_timeout: '0.9' }],
  ])('probes separately when the %s differs', async (_what, lines) => {
    const a = proberOf('server1');
    const b = proberOf('server2', lines);
    await once(a.probe('server1'));
    await once(b.probe('server2'));
    const total = [...backend.state.hits.values()].reduce((sum, hits) => sum + hits, 0);
    expect(total).toBe(2);
  });

  it('probes separately without SharedProbes', async () => {
    const a = proberOf('server1', {}, false);
    const b = proberOf('server2', {}, false);
    await once(a.probe('server1'));
    await once(b.probe('server2'));
    expect(backend.hits()).toBe(2);
  });

  it('joins a probe in flight', async () => {
    backend.state.delayMs = 150;
    const a = proberOf('server1');
    const b = proberOf('server2');
    const [fromA, fromB] = await Promise.all([once(a.probe('server1')), once(b.probe('server2'))]);
    expect(fromA).toMatchObject({ backend: 'server1', up: true });
    expect(fromB).toMatchObject({ backend: 'server2', up: true });
    expect(fromB.latencyMs).toBe(fromA.latencyMs);
    expect(backend.hits()).toBe(1);
  });

  it('keeps the request for a caller still waiting when another leaves, aborts it when the last leaves', async () => {
    backend.state.delayMs = 200;
    const a = proberOf('server1');
    const b = proberOf('server2');
    const leaving = a.probe('server1').subscribe();
    const staying = once(b.probe('server2'));
    await waitUntil(() => backend.hits() === 1, 'the probe reaches the backend');
    leaving.unsubscribe();
    await expect(staying).resolves.toMatchObject({ backend: 'server2', up: true });
    expect(backend.state.aborted).toBe(0);
    expect(backend.hits()).toBe(1);

    await sleep(INTERVAL_MS);
    const first = a.probe('server1').subscribe();
    const second = b.probe('server2').subscribe();
    await waitUntil(() => backend.hits() === 2, 'the next probe reaches the backend');
    first.unsubscribe();
    second.unsubscribe();
    await waitUntil(() => backend.state.aborted === 1, 'the backend sees the probe aborted');
    expect(shared.size).toBe(0);
  });

  it('keeps the other prober working when one is closed, even mid-probe', async () => {
    backend.state.delayMs = 150;
    const a = proberOf('server1');
    const b = proberOf('server2');
    a.probe('server1').subscribe();
    const joined = once(b.probe('server2'));
    await waitUntil(() => backend.hits() === 1, 'the probe reaches the backend');
    // The request runs on a's connections: closing a lets it finish.
    await Promise.all([closeEarly(a), expect(joined).resolves.toMatchObject({ up: true })]);
    expect(backend.state.aborted).toBe(0);

    backend.state.delayMs = 0;
    await sleep(INTERVAL_MS);
    await expect(once(b.probe('server2'))).resolves.toMatchObject({
      backend: 'server2',
      up: true,
    });
    expect(backend.hits()).toBe(2);
  });

  it('drops results once stale, and those of closed probers', async () => {
    const a = proberOf('server1');
    const b = proberOf('server2', { health_check_path: '/other' });
    await once(a.probe('server1'));
    await once(b.probe('server2'));
    expect(shared.size).toBe(2);
    await closeEarly(b);
    expect(shared.size).toBe(1);
    await waitUntil(() => shared.size === 0, 'the result goes stale', INTERVAL_MS * 4);
  });
});

describe('SharedProbes keys', () => {
  const tls = (verify: boolean) => ({ caFile: undefined, ca: ['PEM'], servername: 'b', verify });
  const key = (overrides: Partial<ProbeKey> = {}): ProbeKey => ({
    origin: 'https://10.0.0.1:8443',
    tls: tls(true),
    path: '/healthCheck',
    intervalMs: 10_000,
    timeoutMs: 2_000,
    ...overrides,
  });

  it('compares TLS settings by value', async () => {
    const shared = new SharedProbes();
    let requests = 0;
    const request = () => {
      requests++;
      return Promise.resolve({ backend: 'ignored', up: true });
    };
    const user = {};
    await expect(once(shared.probe(user, key(), 'server1', request))).resolves.toEqual({
      backend: 'server1',
      up: true,
    });
    await once(shared.probe(user, key({ tls: tls(true) }), 'server2', request));
    expect(requests).toBe(1);
    await once(shared.probe(user, key({ tls: tls(false) }), 'server2', request));
    await once(
      shared.probe(
        user,
        key({ origin: 'http://10.0.0.1:8443', tls: undefined }),
        'server2',
        request,
      ),
    );
    expect(requests).toBe(3);
    shared.release(user);
    expect(shared.size).toBe(0);
  });
});

describe('SharedProbes with a request that throws', () => {
  it('fails that probe for every caller and keeps nothing', async () => {
    const shared = new SharedProbes();
    const key: ProbeKey = {
      origin: 'http://10.0.0.1:8080',
      tls: undefined,
      path: '/healthCheck',
      intervalMs: 10_000,
      timeoutMs: 2_000,
    };
    const throwing = () => {
      throw new Error('bad TLS file');
    };
    await expect(once(shared.probe({}, key, 'server1', throwing))).resolves.toEqual({
      backend: 'server1',
      up: false,
      reason: 'bad TLS file',
    });
    expect(shared.size).toBe(0);
  });
});
