import {
  clusterReadiness,
  clusterStatus,
  mergeLatency,
  type WorkerAnswer,
} from '../../src/cluster/clusterStatus';
import type { WorkerFigures } from '../../src/cluster/messages';
import type { LiveServer } from '../../src/observability/liveState';
import type {
  LatencyHistogram,
  PoolStatus,
  ProxyStatus,
  ServerStatus,
} from '../../src/observability/statusReport';
import { quietServer } from '../helpers/fakeStatus';

const server = (inFlight: number, inRotation: boolean): LiveServer => ({
  pool: 'http',
  name: 'server1',
  address: '127.0.0.1:9001',
  staticWeight: 1,
  inRotation,
  effectiveWeight: inRotation ? 1 : 0,
  down: undefined,
  workers: { busy: inFlight, idle: 1, connecting: 0 },
  queueDepth: 0,
  inFlight,
  openWebSockets: 0,
});

const worker = (pid: number, inFlight: number, inRotation: boolean): WorkerFigures => ({
  pid,
  requestsInFlight: inFlight,
  ready: inRotation,
  reason: inRotation ? 'ready' : 'no backend in rotation',
  pools: [
    {
      name: 'http',
      algorithm: 'random',
      healthChecks: false,
      servers: [server(inFlight, inRotation)],
    },
  ],
});

const BOUNDS = [0.1, 1];

/** A server of a worker's own `/status`: in rotation, no traffic; `changes` on top. */
const serverStatus = (name: string, changes: Partial<ServerStatus> = {}): ServerStatus =>
  quietServer(name, `127.0.0.1:${9000 + name.length}`, BOUNDS, changes);

const pool = (servers: ServerStatus[], changes: Partial<PoolStatus> = {}): PoolStatus => ({
  name: 'http',
  algorithm: 'round-robin',
  healthChecks: true,
  rejected: {},
  servers,
  ...changes,
});

/** A worker's own `/status` (what a single process answers); `changes` on top. */
const ownStatus = (changes: Partial<ProxyStatus> = {}): ProxyStatus => ({
  version: '0.9.0',
  startedAt: '2026-01-01T00:00:00.000Z',
  uptimeSeconds: 1,
  configFile: '/etc/rxproxy.ini',
  ready: true,
  readiness: 'ready',
  requestsInFlight: 0,
  lastReload: null,
  pools: [pool([serverStatus('server1')])],
  routes: [],
  ...changes,
});

const answer = (pid: number, at: number, status: Partial<ProxyStatus> = {}): WorkerAnswer => ({
  figures: worker(pid, 0, true),
  status: ownStatus(status),
  at,
});

const META = {
  version: '1.0.0',
  configFile: '/etc/rxproxy.ini',
  startedAt: 0,
  now: 12_345,
  workers: 2,
  readiness: { ready: false, reason: 'shutting down' },
};

const merged = (answers: WorkerAnswer[]) => clusterStatus(answers, META);
const firstServer = (status: ProxyStatus) => status.pools[0]?.servers[0];

describe('clusterStatus', () => {
  const figures = [worker(11, 2, true), worker(12, 3, false)];
  const status = clusterStatus(
    figures.map((figure, at) => ({ figures: figure, status: ownStatus(), at })),
    { ...META, readiness: clusterReadiness(figures, false) },
  );

  it('shows every worker as it sees itself', () => {
    expect(status.processes).toEqual(figures);
    expect(status.workers).toBe(2);
  });

  it('sums the figures over the workers', () => {
    expect(status.totals.requestsInFlight).toBe(5);
    expect(status.totals.servers).toEqual([
      {
        pool: 'http',
        name: 'server1',
        inFlight: 5,
        openWebSockets: 0,
        queueDepth: 0,
        connections: 7,
        inRotationIn: 1,
      },
    ]);
  });

  it('has the primary’s identity and the cluster’s readiness at the top, not a worker’s', () => {
    expect(merged([answer(1, 1), answer(2, 2)])).toMatchObject({
      version: '1.0.0',
      startedAt: '1970-01-01T00:00:00.000Z',
      uptimeSeconds: 12.3,
      configFile: '/etc/rxproxy.ini',
      ready: false,
      readiness: 'shutting down',
    });
  });

  it('is a single process’s document with nothing in it before any worker answers', () => {
    expect(merged([])).toMatchObject({
      requestsInFlight: 0,
      lastReload: null,
      pools: [],
      routes: [],
      processes: [],
    });
  });

  const busy = (served: number, failed: number) =>
    serverStatus('server1', {
      workers: { busy: served, idle: 1, connecting: failed },
      queueDepth: failed,
      requests: { inFlight: 1, served, failed, abandoned: 1 },
      websockets: { open: 1, total: served },
      latency: { bounds: BOUNDS, counts: [served, served + failed, served + failed + 1], sum: 2 },
    });

  it.each<[string, (server: ServerStatus | undefined) => unknown, unknown]>([
    ['requests', (server) => server?.requests, { inFlight: 2, served: 7, failed: 3, abandoned: 2 }],
    ['websockets', (server) => server?.websockets, { open: 2, total: 7 }],
    ['connections', (server) => server?.workers, { busy: 7, idle: 2, connecting: 3 }],
    ['queue depth', (server) => server?.queueDepth, 3],
    [
      'latency buckets',
      (server) => server?.latency,
      { bounds: BOUNDS, counts: [7, 10, 12], sum: 4 },
    ],
  ])('sums a server’s %s over the workers', (_name, read, expected) => {
    const status = merged([
      answer(1, 1, { pools: [pool([busy(3, 1)])] }),
      answer(2, 2, { pools: [pool([busy(4, 2)])] }),
    ]);
    expect(read(firstServer(status))).toEqual(expected);
  });

  it.each<
    [string, Partial<ProxyStatus>, Partial<ProxyStatus>, (status: ProxyStatus) => unknown, unknown]
  >([
    [
      'requests in flight',
      { requestsInFlight: 2 },
      { requestsInFlight: 5 },
      (s) => s.requestsInFlight,
      7,
    ],
    [
      'rejections by reason',
      { pools: [pool([serverStatus('server1')], { rejected: { 'queue-full': 2 } })] },
      {
        pools: [
          pool([serverStatus('server1')], { rejected: { 'queue-full': 1, 'no-backend': 4 } }),
        ],
      },
      (s) => s.pools[0]?.rejected,
      { 'queue-full': 3, 'no-backend': 4 },
    ],
    [
      'routes, in file order',
      {
        routes: [
          { name: 'api', requests: 2, websockets: 0 },
          { name: 'chat', requests: 0, websockets: 1 },
        ],
      },
      {
        routes: [
          { name: 'api', requests: 3, websockets: 0 },
          { name: 'chat', requests: 1, websockets: 2 },
        ],
      },
      (s) => s.routes,
      [
        { name: 'api', requests: 5, websockets: 0 },
        { name: 'chat', requests: 1, websockets: 3 },
      ],
    ],
    [
      'pools and servers only one worker has (it reloaded first)',
      { pools: [pool([serverStatus('server1')])] },
      {
        pools: [
          pool([serverStatus('server1'), serverStatus('server2')]),
          pool([serverStatus('ws1')], { name: 'websocket' }),
        ],
      },
      (s) => s.pools.map((p) => [p.name, p.servers.map((server) => server.name)]),
      [
        ['http', ['server1', 'server2']],
        ['websocket', ['ws1']],
      ],
    ],
  ])('sums the workers’ %s', (_name, older, newer, read, expected) => {
    expect(read(merged([answer(1, 1, older), answer(2, 2, newer)]))).toEqual(expected);
  });

  const out = serverStatus('server1', {
    inRotation: false,
    out: { cause: 'health-check', reason: 'connect ECONNREFUSED' },
    weight: { static: 1, effective: 0 },
  });

  it.each([
    ['the later answer is second', [answer(1, 1), answer(2, 2, { pools: [pool([out])] })]],
    ['the later answer is first', [answer(2, 2, { pools: [pool([out])] }), answer(1, 1)]],
  ])('takes health from the most recent answer when workers differ (%s)', (_name, answers) => {
    expect(firstServer(merged(answers))).toMatchObject({
      inRotation: false,
      out: { cause: 'health-check', reason: 'connect ECONNREFUSED' },
      weight: { static: 1, effective: 0 },
    });
  });

  const checked = (at: string, up: boolean) =>
    serverStatus('server1', { lastHealthCheck: { up, latencyMs: 2, at } });
  const reload = (at: string, trigger: string) =>
    ({ at, result: 'applied', trigger, summary: 'no change' }) as const;

  it.each<
    [string, Partial<ProxyStatus>, Partial<ProxyStatus>, (status: ProxyStatus) => unknown, unknown]
  >([
    [
      'last health check',
      { pools: [pool([checked('2026-01-01T00:00:05.000Z', false)])] },
      { pools: [pool([checked('2026-01-01T00:00:04.000Z', true)])] },
      (s) => firstServer(s)?.lastHealthCheck,
      { up: false, latencyMs: 2, at: '2026-01-01T00:00:05.000Z' },
    ],
    [
      'last health check, when one worker has none yet',
      { pools: [pool([checked('2026-01-01T00:00:05.000Z', true)])] },
      {},
      (s) => firstServer(s)?.lastHealthCheck?.at,
      '2026-01-01T00:00:05.000Z',
    ],
    [
      'last reload',
      { lastReload: reload('2026-01-01T00:01:00.000Z', 'SIGHUP') },
      { lastReload: reload('2026-01-01T00:00:30.000Z', 'admin') },
      (s) => s.lastReload?.trigger,
      'SIGHUP',
    ],
    ['last reload, before any', {}, {}, (s) => s.lastReload, null],
  ])(
    'takes the most recent %s, whichever worker answered last',
    (_name, older, newer, read, expected) => {
      expect(read(merged([answer(1, 1, older), answer(2, 2, newer)]))).toEqual(expected);
    },
  );
});

describe('mergeLatency', () => {
  const histogram = (bounds: number[], counts: number[], sum: number): LatencyHistogram => ({
    bounds,
    counts,
    sum,
  });

  it.each([
    [
      'adds the same bounds bucket by bucket',
      histogram([0.1, 1], [1, 2, 3], 1.5),
      histogram([0.1, 1], [0, 4, 4], 2),
      histogram([0.1, 1], [1, 6, 7], 3.5),
    ],
    [
      'counts other bounds at the largest of their own under each bound, totals exact',
      histogram([0.1, 0.5, 1], [1, 2, 3, 3], 1),
      histogram([0.25, 1, 2], [2, 4, 5, 6], 3),
      histogram([0.1, 0.5, 1], [1, 4, 7, 9], 4),
    ],
  ])('%s', (_name, a, b, expected) => {
    expect(mergeLatency(a, b)).toEqual(expected);
  });
});

describe('clusterReadiness', () => {
  it.each([
    [[worker(1, 0, true), worker(2, 0, false)], false, true, 'ready'],
    [[worker(1, 0, false)], false, false, 'no backend in rotation'],
    [[], false, false, 'no worker has started'],
    [[worker(1, 0, true)], true, false, 'shutting down'],
  ])('%#', (figures, stopping, ready, reason) => {
    expect(clusterReadiness(figures, stopping)).toEqual({ ready, reason });
  });
});
