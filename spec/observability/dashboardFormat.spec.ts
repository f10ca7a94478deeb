import {
  causeText,
  escapeHtml,
  feedEntry,
  formatDuration,
  formatLatency,
  formatPercent,
  formatRate,
  outText,
  type FeedEvent,
} from '../../src/observability/dashboardFormat';

describe('dashboard text', () => {
  it('escapes HTML', () => {
    expect(escapeHtml(`<b title="x">Tom & 'Jerry'</b>`)).toBe(
      '&lt;b title=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/b&gt;',
    );
  });

  const latency = (value: number | null) => formatLatency(value);
  const rate = (value: number | null) => formatRate(value ?? 0);
  const percent = (value: number | null) => formatPercent(value);
  const duration = (value: number | null) => formatDuration(value ?? 0);

  it.each([
    ['latency', latency, null, '–'],
    ['latency', latency, Number.NaN, '–'],
    ['latency', latency, 0.00042, '0.42 ms'],
    ['latency', latency, 0.0075, '7.5 ms'],
    ['latency', latency, 0.005, '5 ms'],
    ['latency', latency, 0.12, '120 ms'],
    ['latency', latency, 0.9996, '1 s'],
    ['latency', latency, 1.25, '1.25 s'],
    ['latency', latency, 2.5, '2.5 s'],
    ['latency', latency, 12.34, '12.3 s'],
    ['rate', rate, 0, '0'],
    ['rate', rate, -1, '0'],
    ['rate', rate, 3.44, '3.4'],
    ['rate', rate, 1, '1'],
    ['rate', rate, 9.96, '10'],
    ['rate', rate, 120.4, '120'],
    ['rate', rate, 1234, '1.2k'],
    ['fraction', percent, null, '–'],
    ['fraction', percent, 0, '0%'],
    ['fraction', percent, 0.0004, '<0.1%'],
    ['fraction', percent, 0.025, '2.5%'],
    ['fraction', percent, 0.05, '5%'],
    ['fraction', percent, 0.4, '40%'],
    ['fraction', percent, 1, '100%'],
    ['duration', duration, -5, '0s'],
    ['duration', duration, 12.9, '12s'],
    ['duration', duration, 245, '4m 05s'],
    ['duration', duration, 3 * 3600 + 7 * 60 + 5, '3h 07m'],
    ['duration', duration, 2 * 86400 + 5 * 3600 + 59, '2d 5h'],
  ])('%s %p is %p', (_what, format, value, text) => {
    expect(format(value)).toBe(text);
  });

  it.each([
    ['health-check', 'health check: status 503', 'Failed health checks: status 503'],
    ['health-check', 'ECONNREFUSED', 'Failed health checks: ECONNREFUSED'],
    ['health-check', undefined, 'Failed health checks'],
    ['ejection', 'ejected after 5 failures for 30000 ms', 'Ejected after 5 failures for 30000 ms'],
    ['ejection', 'too many 5xx', 'Ejected: too many 5xx'],
    [
      'hook',
      'health check: drained by the operator',
      'Taken out by a hook: health check: drained by the operator',
    ],
  ] as const)('out of rotation by %s with %p reads %p', (cause, reason, text) => {
    expect(outText(cause, reason)).toBe(text);
  });

  it('names each cause of leaving rotation', () => {
    expect(
      (['health-check', 'ejection', 'hook'] as const).map((cause) => causeText(cause)),
    ).toEqual(['Failed health checks', 'Ejected', 'Taken out by a hook']);
  });
});

describe('feedEntry', () => {
  const time = '2025-01-01T12:00:00.000Z';
  const clock = (ms: number) => `T${ms}`;
  const entry = (event: FeedEvent) => feedEntry(event, clock);

  it('tells of an ejection with its reason and return time', () => {
    expect(
      entry({
        type: 'health',
        pool: 'http',
        backend: 'server2',
        healthy: false,
        cause: 'ejection',
        reason: 'ejected after 5 failures for 30000 ms',
        returnsAt: 1234,
        time,
      }),
    ).toEqual({
      tone: 'bad',
      label: 'Down',
      title: 'server2 out of rotation',
      detail: 'Ejected after 5 failures for 30000 ms · returns at T1234 · pool http',
    });
  });

  it('tells of a server back in rotation', () => {
    expect(
      entry({ type: 'health', pool: 'websocket', backend: 'ws1', healthy: true, time }),
    ).toEqual({ tone: 'ok', label: 'Up', title: 'ws1 back in rotation', detail: 'pool websocket' });
  });

  it('shows failed health checks only, amber while the server is still in rotation', () => {
    const check = {
      type: 'health-check' as const,
      pool: 'http' as const,
      backend: 'server3',
      latencyMs: 12.4,
      time,
    };
    expect(entry({ ...check, up: true, healthy: true })).toBeNull();
    expect(entry({ ...check, up: false, healthy: true, reason: 'status 503' })).toEqual({
      tone: 'warn',
      label: 'Check',
      title: 'server3 failed a health check',
      detail: 'status 503 · 12 ms · still in rotation',
      repeatKey: 'health-check http server3 status 503',
    });
    expect(entry({ ...check, up: false, healthy: false })?.tone).toBe('bad');
  });

  it('shows workers spawned, retired and lost, not connected', () => {
    const worker = { type: 'worker' as const, backend: 'server1', worker: 3, time };
    expect(entry({ ...worker, action: 'spawned', reason: 'pressure', workers: 4 })).toEqual({
      tone: 'info',
      label: 'Worker',
      title: 'server1 worker 3 spawned (pressure)',
      detail: '4 workers now',
    });
    expect(entry({ ...worker, action: 'lost', workers: 1, error: 'ECONNRESET' })).toEqual(
      expect.objectContaining({ tone: 'warn', title: 'server1 worker 3 lost: ECONNRESET' }),
    );
    expect(entry({ ...worker, action: 'retired', workers: 0 })?.detail).toBe('0 workers now');
    expect(entry({ ...worker, action: 'connected', workers: 4 })).toBeNull();
  });
});
