import type { Observable } from './rx';
import type { ProxyEvent } from './events';
import type { LiveState } from './observability/liveState';
import { createMetrics, type ProxyMetrics } from './observability/metrics';
import { TrafficStats } from './observability/trafficStats';

/** What the admin listener counts of the traffic: its metrics and its `/status` counters. */
export interface TrafficCounters {
  readonly metrics: ProxyMetrics;
  readonly stats: TrafficStats;
  /** Stops counting and unregisters the metrics. */
  close(): void;
}

/**
 * Metrics and status counters fed by the proxy's events, for a single process's admin listener
 * and for a cluster worker counting for its primary's. Loaded with the admin listener only (it
 * brings prom-client).
 */
export function countTraffic(
  events$: Observable<ProxyEvent>,
  buckets: readonly number[],
  live: LiveState,
): TrafficCounters {
  const metrics = createMetrics({ buckets, live });
  const stats = new TrafficStats(buckets);
  const counting = events$.subscribe((event) => {
    stats.observe(event);
    metrics.observe(event);
  });
  return {
    metrics,
    stats,
    close: () => {
      counting.unsubscribe();
      metrics.close();
    },
  };
}
