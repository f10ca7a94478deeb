import perfHooks, { type IntervalHistogram } from 'node:perf_hooks';
import { register as globalRegistry } from 'prom-client';
import { createMetrics, type ProxyMetrics } from '../../src/observability/metrics';
import { BUILT_IN_REJECT_REASONS } from '../../src/observability/reasonCounters';
import { FakeLiveState, liveServer } from '../helpers/fakeLiveState';
import { parseSamples, valueOf, type Sample } from '../helpers/promText';
import { requestEvent as request, webSocketClose as wsClose } from '../helpers/proxyEvents';

const BUCKETS = [0.01, 0.1, 1];

describe('createMetrics', () => {
  let live: FakeLiveState;
  let metrics: ProxyMetrics;
  const server1 = { pool: 'http', server: 'server1' };

  const scrape = async (): Promise<Sample[]> => parseSamples(await metrics.scrape());

  beforeEach(() => {
    live = new FakeLiveState(
      [
        liveServer('http', 'server1', { effectiveWeight: 3, staticWeight: 3 }),
        liveServer('http', 'server2'),
        liveServer('websocket', 'ws1', { workers: undefined }),
      ],
      ['api', 'static'],
    );
    metrics = createMetrics({ buckets: BUCKETS, live });
  });

  afterEach(() => metrics.close());

  it('counts requests by server and status class, and times them', async () => {
    for (let i = 0; i < 30; i++) metrics.observe(request({ durationMs: i < 10 ? 5 : 500 }));
    metrics.observe(request({ status: 302 }));
    metrics.observe(request({ status: 404 }));
    metrics.observe(request({ status: 499 }));
    metrics.observe(request({ backend: 'server2', status: 503 }));
    const samples = await scrape();
    const requests = (labels: Record<string, string>) =>
      valueOf(samples, 'rxproxy_requests_total', labels);
    expect(requests({ ...server1, code: '2xx' })).toBe(30);
    expect(requests({ ...server1, code: '3xx' })).toBe(1);
    expect(requests({ ...server1, code: '4xx' })).toBe(2);
    expect(requests({ ...server1, code: '5xx' })).toBe(0);
    expect(requests({ pool: 'http', server: 'server2', code: '5xx' })).toBe(1);
    expect(valueOf(samples, 'rxproxy_request_duration_seconds_count', server1)).toBe(33);
    const bucket = (le: string) =>
      valueOf(samples, 'rxproxy_request_duration_seconds_bucket', { ...server1, le });
    expect([bucket('0.01'), bucket('0.1'), bucket('1'), bucket('+Inf')]).toEqual([10, 13, 33, 33]);
    expect(valueOf(samples, 'rxproxy_request_duration_seconds_sum', server1)).toBeCloseTo(10.2);
  });

  it('puts a duration equal to a bound in that bound’s bucket, a longer one only in +Inf', async () => {
    for (const durationMs of [10, 1000, 5000]) metrics.observe(request({ durationMs }));
    const samples = await scrape();
    const bucket = (le: string) =>
      valueOf(samples, 'rxproxy_request_duration_seconds_bucket', { ...server1, le });
    expect([bucket('0.01'), bucket('0.1'), bucket('1'), bucket('+Inf')]).toEqual([1, 1, 2, 3]);
  });

  it('starts again from 0 after registry.resetMetrics()', async () => {
    metrics.observe(request());
    await scrape();
    metrics.registry.resetMetrics();
    metrics.observe(request({ status: 500 }));
    const samples = await scrape();
    const requests = (code: string) =>
      valueOf(samples, 'rxproxy_requests_total', { ...server1, code });
    expect([requests('2xx'), requests('5xx')]).toEqual([0, 1]);
    expect(valueOf(samples, 'rxproxy_request_duration_seconds_count', server1)).toBe(1);
  });

  it('gives every sample its full labels as JSON too (what cluster aggregation reads)', async () => {
    metrics.observe(request());
    const json = await metrics.registry.getMetricsAsJSON();
    const values = (name: string) => json.find((metric) => metric.name === name)?.values ?? [];
    expect(values('rxproxy_requests_total')).toContainEqual({
      labels: { ...server1, code: '2xx' },
      value: 1,
    });
    expect(values('rxproxy_request_duration_seconds')).toContainEqual({
      metricName: 'rxproxy_request_duration_seconds_count',
      labels: server1,
      value: 1,
    });
    expect(values('rxproxy_server_up')).toContainEqual({ labels: server1, value: 1 });
  });

  it('counts the proxy’s own answers under server="" and by reason, outside the histogram', async () => {
    metrics.observe(request({ status: 503, rejected: 'queue_timeout' }));
    metrics.observe(request({ backend: undefined, status: 503, rejected: 'no_healthy_backend' }));
    metrics.observe(request({ backend: undefined, status: 502 }));
    metrics.observe(request({ status: 403, rejected: 'geo_blocked' }));
    const samples = await scrape();
    const own = (code: string) =>
      valueOf(samples, 'rxproxy_requests_total', { pool: 'http', server: '', code });
    expect(own('5xx')).toBe(3);
    expect(own('4xx')).toBe(1);
    expect(valueOf(samples, 'rxproxy_requests_total', { ...server1, code: '5xx' })).toBe(0);
    expect(valueOf(samples, 'rxproxy_request_duration_seconds_count', server1)).toBe(0);
    const rejected = (reason: string) => valueOf(samples, 'rxproxy_rejected_total', { reason });
    expect(rejected('queue_timeout')).toBe(1);
    expect(rejected('no_healthy_backend')).toBe(1);
    expect(rejected('geo_blocked')).toBe(1);
  });

  it('has every built-in reject reason at 0 and counts client errors and refused handshakes', async () => {
    const before = await scrape();
    for (const reason of BUILT_IN_REJECT_REASONS) {
      expect(valueOf(before, 'rxproxy_rejected_total', { reason })).toBe(0);
    }
    const clientError = {
      type: 'client-error',
      code: 'HPE_HEADER_OVERFLOW',
      message: 'too big',
    } as const;
    metrics.observe({ ...clientError, remoteAddress: '10.1.2.3', rejected: 'too_large' });
    metrics.observe({ ...clientError, code: 'ECONNRESET', remoteAddress: '10.1.2.3' });
    metrics.observe({
      type: 'websocket-rejected',
      pool: 'websocket',
      status: 503,
      rejected: 'no_healthy_backend',
    });
    const after = await scrape();
    expect(valueOf(after, 'rxproxy_rejected_total', { reason: 'too_large' })).toBe(1);
    expect(valueOf(after, 'rxproxy_rejected_total', { reason: 'no_healthy_backend' })).toBe(1);
    expect(after.filter((s) => s.name === 'rxproxy_rejected_total')).toHaveLength(
      BUILT_IN_REJECT_REASONS.length,
    );
  });

  it('has every configured server’s series from the start, at 0', async () => {
    const samples = await scrape();
    for (const server of ['server1', 'server2']) {
      const labels = { pool: 'http', server };
      for (const code of ['1xx', '2xx', '3xx', '4xx', '5xx']) {
        expect(valueOf(samples, 'rxproxy_requests_total', { ...labels, code })).toBe(0);
      }
      expect(valueOf(samples, 'rxproxy_request_duration_seconds_count', labels)).toBe(0);
      expect(valueOf(samples, 'rxproxy_ejections_total', labels)).toBe(0);
      expect(valueOf(samples, 'rxproxy_retries_total', labels)).toBe(0);
      for (const result of ['up', 'down']) {
        expect(valueOf(samples, 'rxproxy_health_checks_total', { ...labels, result })).toBe(0);
      }
      for (const direction of ['client_to_backend', 'backend_to_client']) {
        const series = { ...labels, direction };
        expect(valueOf(samples, 'rxproxy_websocket_messages_total', series)).toBe(0);
        expect(valueOf(samples, 'rxproxy_websocket_bytes_total', series)).toBe(0);
      }
    }
    const own = { pool: 'websocket', server: '', code: '5xx' };
    expect(valueOf(samples, 'rxproxy_requests_total', own)).toBe(0);
  });

  it('shows a server that joins later at 0 on the next scrape', async () => {
    live.servers = [...live.servers, liveServer('http', 'server3')];
    const samples = await scrape();
    const labels = { pool: 'http', server: 'server3' };
    expect(valueOf(samples, 'rxproxy_requests_total', { ...labels, code: '2xx' })).toBe(0);
    expect(valueOf(samples, 'rxproxy_server_up', labels)).toBe(1);
  });

  describe('rxproxy_route_requests_total', () => {
    const CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'];
    const routeSamples = (samples: readonly Sample[]) =>
      samples.filter((sample) => sample.name === 'rxproxy_route_requests_total');
    const byRoute = (samples: readonly Sample[], route: string, code: string) =>
      valueOf(samples, 'rxproxy_route_requests_total', { route, code });

    it('has every configured route and route="" at 0 before any traffic, in file order', async () => {
      const samples = routeSamples(await scrape());
      expect(samples.map(({ labels }) => `${labels.route}:${labels.code}`)).toEqual(
        ['', 'api', 'static'].flatMap((route) => CLASSES.map((code) => `${route}:${code}`)),
      );
      expect(samples.every((sample) => sample.value === 0)).toBe(true);
    });

    it('counts requests by the route that took them and status class', async () => {
      metrics.observe(request({ route: 'api' }));
      metrics.observe(request({ route: 'api', status: 201 }));
      metrics.observe(request({ route: 'api', status: 499 }));
      metrics.observe(request({ route: 'api', status: 503, rejected: 'queue_full' }));
      metrics.observe(request({ route: 'static', status: 304 }));
      metrics.observe(request({ route: 'static', status: 600 }));
      const samples = await scrape();
      expect(CLASSES.map((code) => byRoute(samples, 'api', code))).toEqual([0, 2, 0, 1, 1]);
      expect(CLASSES.map((code) => byRoute(samples, 'static', code))).toEqual([0, 0, 1, 0, 1]);
      expect(CLASSES.map((code) => byRoute(samples, '', code))).toEqual([0, 0, 0, 0, 0]);
    });

    it('counts the default pool’s requests and no-route answers under route=""', async () => {
      metrics.observe(request());
      metrics.observe(request({ pool: '', backend: undefined, status: 404, rejected: 'no_route' }));
      const samples = await scrape();
      expect(byRoute(samples, '', '2xx')).toBe(1);
      expect(byRoute(samples, '', '4xx')).toBe(1);
      expect(byRoute(samples, 'api', '2xx')).toBe(0);
    });

    it('shows a route added by a reload at 0 on the next scrape, keeps a removed one', async () => {
      metrics.observe(request({ route: 'static' }));
      live.routeNames = ['api', 'admin'];
      const samples = await scrape();
      for (const code of CLASSES) expect(byRoute(samples, 'admin', code)).toBe(0);
      expect(byRoute(samples, 'static', '2xx')).toBe(1);
    });

    it('counts a route the configuration no longer has: it had it when the request was answered', async () => {
      metrics.observe(request({ route: 'old' }));
      expect(byRoute(await scrape(), 'old', '2xx')).toBe(1);
    });

    it('has only route="" without routes in the live state', async () => {
      const bare = createMetrics({
        buckets: BUCKETS,
        live: {
          pools: () => live.pools(),
          requestsInFlight: () => live.requestsInFlight(),
          readiness: () => live.readiness(),
        },
      });
      try {
        bare.observe(request());
        const samples = routeSamples(parseSamples(await bare.scrape()));
        expect(samples.map(({ labels }) => labels.route)).toEqual(CLASSES.map(() => ''));
        expect(valueOf(samples, 'rxproxy_route_requests_total', { route: '', code: '2xx' })).toBe(
          1,
        );
      } finally {
        bare.close();
      }
    });

    it('starts again from 0 after registry.resetMetrics()', async () => {
      metrics.observe(request({ route: 'api' }));
      metrics.registry.resetMetrics();
      metrics.observe(request({ route: 'api', status: 500 }));
      const samples = await scrape();
      expect([byRoute(samples, 'api', '2xx'), byRoute(samples, 'api', '5xx')]).toEqual([0, 1]);
    });
  });

  it('reads rotation, weight, connections, queues and WebSockets from the live state', async () => {
    live.set('http', 'server1', {
      workers: { busy: 4, idle: 2, connecting: 1 },
      queueDepth: 7,
      openWebSockets: 2,
    });
    live.inFlight = 5;
    let samples = await scrape();
    expect(valueOf(samples, 'rxproxy_server_up', server1)).toBe(1);
    expect(valueOf(samples, 'rxproxy_server_weight', server1)).toBe(3);
    const connections = (state: string) =>
      valueOf(samples, 'rxproxy_upstream_connections', { ...server1, state });
    expect([connections('busy'), connections('idle'), connections('connecting')]).toEqual([
      4, 2, 1,
    ]);
    expect(valueOf(samples, 'rxproxy_queue_depth', server1)).toBe(7);
    expect(valueOf(samples, 'rxproxy_websockets_open', server1)).toBe(2);
    expect(valueOf(samples, 'rxproxy_requests_in_flight')).toBe(5);
    const ws1 = { pool: 'websocket', server: 'ws1' };
    expect(samples.filter((s) => s.name === 'rxproxy_upstream_connections')).toHaveLength(6);
    expect(valueOf(samples, 'rxproxy_websockets_open', ws1)).toBe(0);

    live.set('http', 'server1', { inRotation: false, effectiveWeight: 3 });
    samples = await scrape();
    expect(valueOf(samples, 'rxproxy_server_up', server1)).toBe(0);
    expect(valueOf(samples, 'rxproxy_server_weight', server1)).toBe(0);
  });

  it('drops a removed server from the gauges, keeps its counters', async () => {
    metrics.observe(request({ backend: 'server2' }));
    live.servers = live.servers.filter((server) => server.name !== 'server2');
    const samples = await scrape();
    const server2 = { pool: 'http', server: 'server2' };
    expect(valueOf(samples, 'rxproxy_server_up', server2)).toBeUndefined();
    expect(valueOf(samples, 'rxproxy_requests_total', { ...server2, code: '2xx' })).toBe(1);
  });

  it('counts ejections, health checks and retries', async () => {
    const health = { type: 'health', pool: 'http', backend: 'server1' } as const;
    metrics.observe({ ...health, healthy: false, cause: 'ejection', reason: '5 failures' });
    metrics.observe({ ...health, healthy: true });
    metrics.observe({ ...health, healthy: false, cause: 'health-check', reason: 'status 500' });
    const check = { type: 'health-check', pool: 'http', backend: 'server1', latencyMs: 2 } as const;
    metrics.observe({ ...check, up: true, healthy: true });
    metrics.observe({ ...check, up: false, healthy: true });
    metrics.observe({ ...check, up: false, healthy: false });
    metrics.observe({ type: 'retry', pool: 'http', backend: 'server1', code: 'ECONNREFUSED' });
    const samples = await scrape();
    expect(valueOf(samples, 'rxproxy_ejections_total', server1)).toBe(1);
    const checks = (result: string) =>
      valueOf(samples, 'rxproxy_health_checks_total', { ...server1, result });
    expect([checks('up'), checks('down')]).toEqual([1, 2]);
    expect(valueOf(samples, 'rxproxy_retries_total', server1)).toBe(1);
    expect(valueOf(samples, 'rxproxy_retries_total', { pool: 'http', server: 'server2' })).toBe(0);
  });

  it('adds a closed WebSocket’s messages and bytes and counts its close code', async () => {
    metrics.observe(wsClose());
    metrics.observe(wsClose({ code: 1006, closedBy: 'backend' }));
    const samples = await scrape();
    const ws1 = (direction: string) => ({ pool: 'websocket', server: 'ws1', direction });
    const messages = 'rxproxy_websocket_messages_total';
    const bytes = 'rxproxy_websocket_bytes_total';
    expect(valueOf(samples, messages, ws1('client_to_backend'))).toBe(6);
    expect(valueOf(samples, messages, ws1('backend_to_client'))).toBe(10);
    expect(valueOf(samples, bytes, ws1('client_to_backend'))).toBe(240);
    expect(valueOf(samples, bytes, ws1('backend_to_client'))).toBe(8000);
    expect(valueOf(samples, 'rxproxy_websocket_closes_total', { code: '1000' })).toBe(1);
    expect(valueOf(samples, 'rxproxy_websocket_closes_total', { code: '1006' })).toBe(1);
  });

  it('never puts a path, URL or client address in a label', async () => {
    metrics.observe(request());
    metrics.observe({
      type: 'client-error',
      code: 'HPE_INVALID_METHOD',
      message: 'bad',
      remoteAddress: '10.9.8.7',
      rejected: 'bad_request',
    });
    const text = await metrics.scrape();
    expect(text).not.toContain('/private/path');
    expect(text).not.toContain('10.9.8.7');
    const allowed = [
      'pool',
      'server',
      'route',
      'code',
      'le',
      'result',
      'state',
      'reason',
      'direction',
    ];
    const rxproxy = parseSamples(text).filter((sample) => sample.name.startsWith('rxproxy_'));
    for (const sample of rxproxy)
      expect(allowed).toEqual(expect.arrayContaining(Object.keys(sample.labels)));
  });

  it('keeps each proxy’s metrics in its own registry, with the process metrics', async () => {
    const other = createMetrics({ buckets: BUCKETS, live });
    try {
      metrics.observe(request());
      const samples = parseSamples(await other.scrape());
      expect(valueOf(samples, 'rxproxy_requests_total', { ...server1, code: '2xx' })).toBe(0);
      expect(valueOf(samples, 'process_cpu_seconds_total')).toBeGreaterThan(0);
      expect(samples.some((sample) => sample.name === 'nodejs_eventloop_lag_seconds')).toBe(true);
      expect(globalRegistry.getMetricsAsArray()).toHaveLength(0);
      expect(other.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    } finally {
      other.close();
    }
  });

  it('stops the event-loop monitor and the GC observer it started when closed', () => {
    const monitor = jest.spyOn(perfHooks, 'monitorEventLoopDelay');
    const disconnect = jest.spyOn(perfHooks.PerformanceObserver.prototype, 'disconnect');
    try {
      const own = createMetrics({ buckets: BUCKETS, live });
      expect(monitor).toHaveBeenCalledTimes(1);
      const histogram = monitor.mock.results[0]?.value as IntervalHistogram;
      const disable = jest.spyOn(histogram, 'disable');
      own.close();
      own.close();
      expect(disable).toHaveBeenCalledTimes(1);
      expect(disconnect).toHaveBeenCalledTimes(1);
      expect(perfHooks.monitorEventLoopDelay).toBe(monitor);
    } finally {
      monitor.mockRestore();
      disconnect.mockRestore();
    }
  });
});
