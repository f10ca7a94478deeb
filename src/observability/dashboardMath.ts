import type { LatencyHistogram, ServerStatus } from './statusReport';

/*
 * The dashboard page runs these very functions: it embeds their compiled source with
 * Function.prototype.toString(). So each one stays self-contained: no imports at run time, no
 * module-level constants, only calls to other functions of this file (the page embeds them all).
 */

/** The counters of one server that rates are computed from: a part of its `/status` entry. */
export type ServerCounters = Pick<ServerStatus, 'requests' | 'latency'>;

/** What one server did between two `/status` readings. */
export interface ServerRates {
  /** Requests finished (served, failed or abandoned) per second. */
  readonly requestsPerSecond: number;
  /** Requests finished in the interval, and how many of them failed. */
  readonly requests: number;
  readonly failed: number;
  /** failed / requests; null when no request finished. */
  readonly errorRate: number | null;
  /** Latency quantiles in seconds; null when no request finished. */
  readonly p50: number | null;
  readonly p99: number | null;
}

/**
 * The cumulative bucket counts of the requests between two readings. After a reset (a restart, or
 * other bounds) the current reading is the whole interval, as Prometheus' rate() assumes.
 */
export function histogramDelta(previous: LatencyHistogram, current: LatencyHistogram): number[] {
  const sameBounds =
    previous.bounds.length === current.bounds.length &&
    previous.bounds.every((bound, index) => bound === current.bounds[index]);
  if (!sameBounds) return current.counts.slice();
  const delta = current.counts.map((count, index) => count - (previous.counts[index] ?? 0));
  return delta.some((count) => count < 0) ? current.counts.slice() : delta;
}

/**
 * The q-quantile (0 < q ≤ 1) of a histogram given as cumulative counts per upper bound (seconds)
 * plus the total, interpolated linearly inside its bucket like Prometheus' histogram_quantile: a
 * quantile in the +Inf bucket is the highest finite bound. Null without observations.
 */
export function quantileFromBuckets(
  q: number,
  bounds: readonly number[],
  counts: readonly number[],
): number | null {
  const total = counts[counts.length - 1] ?? 0;
  if (!(total > 0) || bounds.length === 0) return null;
  const rank = Math.min(Math.max(q, 0), 1) * total;
  let bucket = 0;
  while (bucket < bounds.length && (counts[bucket] ?? 0) < rank) bucket++;
  if (bucket === bounds.length) return bounds[bounds.length - 1] ?? null;
  const end = bounds[bucket] ?? 0;
  if (bucket === 0 && end <= 0) return end;
  const start = bucket === 0 ? 0 : (bounds[bucket - 1] ?? 0);
  const before = bucket === 0 ? 0 : (counts[bucket - 1] ?? 0);
  const inBucket = (counts[bucket] ?? 0) - before;
  if (!(inBucket > 0)) return start;
  return start + (end - start) * ((rank - before) / inBucket);
}

/** Rates of one server from two successive readings `seconds` apart. */
export function serverRates(
  previous: ServerCounters,
  current: ServerCounters,
  seconds: number,
): ServerRates {
  const was = previous.requests;
  const now = current.requests;
  const reset = now.served < was.served || now.failed < was.failed || now.abandoned < was.abandoned;
  const served = reset ? now.served : now.served - was.served;
  const failed = reset ? now.failed : now.failed - was.failed;
  const abandoned = reset ? now.abandoned : now.abandoned - was.abandoned;
  const requests = served + failed + abandoned;
  const buckets = histogramDelta(previous.latency, current.latency);
  return {
    requestsPerSecond: seconds > 0 ? requests / seconds : 0,
    requests,
    failed,
    errorRate: requests > 0 ? failed / requests : null,
    p50: quantileFromBuckets(0.5, current.latency.bounds, buckets),
    p99: quantileFromBuckets(0.99, current.latency.bounds, buckets),
  };
}

/** The smallest of 1, 2 or 5 times a power of ten that is at least `value` (0 for none). */
export function niceCeiling(value: number): number {
  if (!(value > 0) || !Number.isFinite(value)) return 0;
  const power = Math.pow(10, Math.floor(Math.log10(value)));
  for (const step of [1, 2, 5]) {
    if (step * power >= value * (1 - 1e-9)) return step * power;
  }
  return 10 * power;
}

/** One line of a sparkline: values at times, drawn over [from, to] into width × height. */
export interface Sparkline {
  readonly times: readonly number[];
  /** null where there is no value: the line breaks there. */
  readonly values: readonly (number | null)[];
  readonly from: number;
  readonly to: number;
  readonly width: number;
  readonly height: number;
  /** The value drawn at the top; larger values are clipped to it. */
  readonly max: number;
  /** Points further apart in time than this are not joined. */
  readonly maxGap: number;
}

/**
 * The SVG path (`d`) of a sparkline: time on x, value on y (0 at the bottom). A point alone is
 * drawn as a dot (`h0`, visible with a round line cap). Empty when there is nothing to draw.
 */
export function sparklinePath(line: Sparkline): string {
  const span = line.to - line.from;
  if (!(span > 0) || !(line.max > 0)) return '';
  const round = (n: number) => Math.round(n * 10) / 10;
  const segments: string[][] = [];
  let segment: string[] = [];
  let lastTime = -Infinity;
  for (let index = 0; index < line.values.length; index++) {
    const value = line.values[index];
    const time = line.times[index];
    const drawable =
      value !== null && value !== undefined && time !== undefined && time >= line.from;
    if (!drawable || time - lastTime > line.maxGap) {
      if (segment.length > 0) segments.push(segment);
      segment = [];
    }
    if (!drawable || time > line.to) continue;
    const clipped = Math.min(Math.max(value, 0), line.max);
    const x = ((time - line.from) / span) * line.width;
    const y = line.height - (clipped / line.max) * line.height;
    segment.push(round(x) + ' ' + round(y));
    lastTime = time;
  }
  if (segment.length > 0) segments.push(segment);
  return segments
    .map((points) => 'M' + points.join('L') + (points.length === 1 ? 'h0' : ''))
    .join('');
}
