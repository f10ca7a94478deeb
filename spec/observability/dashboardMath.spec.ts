import {
  histogramDelta,
  niceCeiling,
  quantileFromBuckets,
  serverRates,
  sparklinePath,
  type ServerCounters,
  type Sparkline,
} from '../../src/observability/dashboardMath';

describe('quantileFromBuckets', () => {
  const bounds = [1, 2, 4];

  it.each([
    ['no buckets', 0.5, [], [5], null],
    ['no observations', 0.5, bounds, [0, 0, 0, 0], null],
    ['the middle of the only bucket used', 0.5, bounds, [0, 10, 10, 10], 1.5],
    ['near the top of that bucket', 0.99, bounds, [0, 10, 10, 10], 1.99],
    ['inside the first bucket, from 0', 0.5, bounds, [4, 4, 4, 4], 0.5],
    ['past an earlier bucket', 0.75, bounds, [2, 6, 10, 10], 2 + 2 * ((7.5 - 6) / 4)],
    ['q = 1: the upper bound of the last bucket used', 1, bounds, [2, 6, 10, 10], 4],
    ['q above 1 counts as 1', 3, bounds, [2, 6, 10, 10], 4],
    ['in the +Inf bucket: the highest finite bound', 0.5, bounds, [0, 0, 0, 5], 4],
    ['a first bound at or below 0 is returned as is', 0.5, [0, 1], [3, 3, 3], 0],
    ['q = 0: the start of the first bucket', 0, bounds, [0, 10, 10, 10], 0],
  ])('%s', (_what, q, theBounds, counts, expected) => {
    const result = quantileFromBuckets(q, theBounds, counts);
    if (expected === null) expect(result).toBeNull();
    else expect(result).toBeCloseTo(expected, 10);
  });

  it('agrees with the exact quantile when observations are spread evenly inside buckets', () => {
    // 1000 observations evenly over 0..10 s, bucketed at every second.
    const observations = Array.from({ length: 1000 }, (_, i) => (i + 0.5) / 100);
    const edges = Array.from({ length: 10 }, (_, i) => i + 1);
    const counts = [...edges.map((edge) => observations.filter((o) => o <= edge).length), 1000];
    expect(quantileFromBuckets(0.5, edges, counts)).toBeCloseTo(5, 1);
    expect(quantileFromBuckets(0.99, edges, counts)).toBeCloseTo(9.9, 1);
  });
});

describe('histogramDelta', () => {
  const bounds = [0.005, 0.01];

  it.each([
    ['subtracts the previous cumulative counts', [10, 25, 30], bounds, [12, 30, 41], [2, 5, 11]],
    [
      'takes the current counts after a reset (a count went down)',
      [10, 25, 30],
      bounds,
      [1, 2, 3],
      [1, 2, 3],
    ],
    [
      'takes the current counts when the bounds changed',
      [1, 2, 3],
      [0.005, 0.02],
      [5, 6, 7],
      [5, 6, 7],
    ],
  ])('%s', (_what, before, nowBounds, now, expected) => {
    expect(
      histogramDelta(
        { bounds, counts: before, sum: 1 },
        { bounds: nowBounds, counts: now, sum: 2 },
      ),
    ).toEqual(expected);
  });
});

function counters(
  served: number,
  failed: number,
  abandoned: number,
  counts: number[],
  bounds = [0.005, 0.01],
): ServerCounters {
  return {
    requests: { inFlight: 0, served, failed, abandoned },
    latency: { bounds, counts, sum: 0 },
  };
}

describe('serverRates', () => {
  it('computes requests per second, error rate and quantiles from the difference', () => {
    const rates = serverRates(
      counters(30, 0, 0, [10, 25, 30]),
      counters(50, 5, 5, [20, 50, 60]),
      2,
    );
    expect(rates.requests).toBe(30);
    expect(rates.failed).toBe(5);
    expect(rates.requestsPerSecond).toBe(15);
    expect(rates.errorRate).toBeCloseTo(5 / 30, 10);
    // Delta buckets [10, 25, 30]: rank 15 lies a third into (0.005, 0.01].
    expect(rates.p50).toBeCloseTo(0.005 + 0.005 / 3, 10);
    // Rank 29.7 is past the last finite bound.
    expect(rates.p99).toBe(0.01);
  });

  it('has no error rate or quantiles when nothing finished', () => {
    const same = counters(30, 1, 0, [10, 25, 31]);
    expect(serverRates(same, same, 1)).toEqual({
      requestsPerSecond: 0,
      requests: 0,
      failed: 0,
      errorRate: null,
      p50: null,
      p99: null,
    });
  });

  it('counts from zero after the counters were reset', () => {
    const rates = serverRates(
      counters(500, 9, 1, [300, 500, 510]),
      counters(8, 2, 0, [4, 9, 10]),
      1,
    );
    expect(rates.requests).toBe(10);
    expect(rates.errorRate).toBeCloseTo(0.2, 10);
    expect(rates.p50).toBeCloseTo(0.005 + 0.005 * (1 / 5), 10);
  });

  it('reports no rate over no time', () => {
    expect(serverRates(counters(0, 0, 0, [0, 0, 0]), counters(5, 0, 0, [5, 5, 5]), 0)).toEqual(
      expect.objectContaining({ requestsPerSecond: 0, requests: 5 }),
    );
  });
});

describe('niceCeiling', () => {
  it.each([
    [0, 0],
    [-3, 0],
    [Number.NaN, 0],
    [Number.POSITIVE_INFINITY, 0],
    [0.2, 0.2],
    [0.3, 0.5],
    [0.1 + 0.2, 0.5],
    [0.0042, 0.005],
    [7, 10],
    [10, 10],
    [11, 20],
    [1234, 2000],
  ])('%p → %p', (value, expected) => {
    expect(niceCeiling(value)).toBeCloseTo(expected, 12);
  });
});

describe('sparklinePath', () => {
  const line = (overrides: Partial<Sparkline>): Sparkline => ({
    times: [0, 50, 100],
    values: [0, 5, 10],
    from: 0,
    to: 100,
    width: 100,
    height: 20,
    max: 10,
    maxGap: 60,
    ...overrides,
  });

  it('draws values over time, 0 at the bottom and max at the top', () => {
    expect(sparklinePath(line({}))).toBe('M0 20L50 10L100 0');
  });

  it('scales time into the width and rounds to a tenth', () => {
    expect(sparklinePath(line({ from: -200, to: 100, width: 10, height: 3 }))).toBe(
      'M6.7 3L8.3 1.5L10 0',
    );
  });

  it('breaks the line at a missing value and draws a point alone as a dot', () => {
    expect(sparklinePath(line({ values: [0, null, 10] }))).toBe('M0 20h0M100 0h0');
  });

  it('breaks the line where points are further apart than maxGap', () => {
    expect(sparklinePath(line({ times: [0, 10, 90], maxGap: 20 }))).toBe('M0 20L10 10M90 0h0');
  });

  it('clips values to 0..max and leaves out points outside the window', () => {
    expect(sparklinePath(line({ times: [-10, 50, 100], values: [3, -4, 25] }))).toBe(
      'M50 20L100 0',
    );
    expect(sparklinePath(line({ times: [0, 50, 150] }))).toBe('M0 20L50 10');
  });

  it('draws nothing without a window, a scale or points', () => {
    expect(sparklinePath(line({ to: 0 }))).toBe('');
    expect(sparklinePath(line({ max: 0 }))).toBe('');
    expect(sparklinePath(line({ times: [], values: [] }))).toBe('');
  });
});
