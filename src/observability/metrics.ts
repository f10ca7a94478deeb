import { Registry } from 'prom-client';
import type { ProxyEvent, ProxyEventOf } from '../events';
import { registerLiveGauges } from './liveGauges';
import type { LivePool, LiveState } from './liveState';
import { MetricSeries } from './metricSeries';
import { collectProcessMetrics } from './processMetrics';
import { countRequest } from './requestCounter';

/** One proxy's Prometheus metrics: counters fed from events$, gauges read from LiveState. */
export interface ProxyMetrics {
  /** This proxy's own registry (never prom-client's global one). */
  readonly registry: Registry;
  /** Counts one event: map lookups and additions. A plain function, to subscribe as it is. */
  readonly observe: (event: ProxyEvent) => void;
  /** The text exposition format, for `GET /metrics`. */
  scrape(): Promise<string>;
  /** The Content-Type of what scrape() returns. */
  readonly contentType: string;
  /** Stops the process metrics' event-loop monitor and GC observer. Idempotent. */
  close(): void;
}

export interface MetricsOptions {
  /** Bounds of rxproxy_request_duration_seconds in seconds (`[admin] metrics_buckets`). */
  readonly buckets: readonly number[];
  readonly live: LiveState;
}

export function createMetrics(options: MetricsOptions): ProxyMetrics {
  const { live } = options;
  const registry = new Registry();

  // One LiveState read per scrape: the first metric collected reads it, the rest of the same
  // scrape (all collected in one synchronous pass) reuse it.
  let current: readonly LivePool[] | undefined;
  const forget = (): void => {
    current = undefined;
  };
  const pools = (): readonly LivePool[] => {
    if (current === undefined) {
      current = live.pools();
      queueMicrotask(forget);
      for (const pool of current) {
        for (const server of pool.servers) series.server(pool.name, server.name);
      }
    }
    return current;
  };

  const series = new MetricSeries(registry, options.buckets, pools);
  registerLiveGauges(registry, live, pools);
  const stopProcessMetrics = collectProcessMetrics(registry);
  pools();

  const onRequest = (event: ProxyEventOf<'request'>): void => {
    if (event.rejected !== undefined || event.backend === undefined) {
      countRequest(series.ownAnswers(event.pool), event.status);
      if (event.rejected !== undefined) series.rejectedFor(event.rejected).inc();
      return;
    }
    const server = series.server(event.pool, event.backend);
    countRequest(server.requests, event.status);
    series.duration.observe(server.duration, event.durationMs / 1000);
  };

  const onWebSocketClose = (event: ProxyEventOf<'websocket-close'>): void => {
    const { clientToBackend, backendToClient } = series.server(event.pool, event.backend);
    clientToBackend.messages.inc(event.clientToBackend.messages);
    clientToBackend.bytes.inc(event.clientToBackend.bytes);
    backendToClient.messages.inc(event.backendToClient.messages);
    backendToClient.bytes.inc(event.backendToClient.bytes);
    series.closedWith(event.code).inc();
  };

  const observe = (event: ProxyEvent): void => {
    switch (event.type) {
      case 'request':
        return onRequest(event);
      case 'retry':
        return series.server(event.pool, event.backend).retries.inc();
      case 'health':
        if (!event.healthy && event.cause === 'ejection') {
          series.server(event.pool, event.backend).ejections.inc();
        }
        return;
      case 'health-check': {
        const server = series.server(event.pool, event.backend);
        return (event.up ? server.checksUp : server.checksDown).inc();
      }
      case 'client-error':
        if (event.rejected !== undefined) series.rejectedFor(event.rejected).inc();
        return;
      case 'websocket-rejected':
        return series.rejectedFor(event.rejected).inc();
      case 'websocket-close':
        return onWebSocketClose(event);
      default:
        return;
    }
  };

  return {
    registry,
    observe,
    scrape: () => registry.metrics(),
    contentType: registry.contentType,
    close: stopProcessMetrics,
  };
}
