import { Registry } from 'prom-client';
import type { ProxyEvent, ProxyEventOf } from '../events';
import { registerLiveGauges } from './liveGauges';
import type { LivePool, LiveState } from './liveState';
import { collectProcessMetrics } from './processMetrics';
import { ReasonCounters } from './reasonCounters';
import { RouteSeriesTable } from './routeSeries';
import { add, countRequest, ServerSeriesTable, SLOT } from './serverSeries';

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
  // scrape (prom-client collects them all in one synchronous pass) reuse it.
  let current: readonly LivePool[] | undefined;
  const forget = (): void => {
    current = undefined;
  };
  const pools = (): readonly LivePool[] => {
    if (current === undefined) {
      current = live.pools();
      queueMicrotask(forget);
      for (const pool of current) {
        table.ownAnswersOf(pool.name);
        for (const server of pool.servers) table.server(pool.name, server.name);
      }
    }
    return current;
  };

  const table = new ServerSeriesTable(registry, options.buckets, pools);
  const routes = new RouteSeriesTable(registry, () => live.routes?.() ?? []);
  const reasons = new ReasonCounters(registry);
  registerLiveGauges(registry, {
    live,
    pools,
    labelsOf: (pool, server) => table.server(pool, server).labels.server,
  });
  const stopProcessMetrics = collectProcessMetrics(registry);
  pools();

  const onRequest = (event: ProxyEventOf<'request'>): void => {
    routes.count(event.route, event.status);
    if (event.rejected !== undefined || event.backend === undefined) {
      countRequest(table.ownAnswersOf(event.pool), event.status);
      if (event.rejected !== undefined) reasons.rejected(event.rejected).inc();
      return;
    }
    const server = table.server(event.pool, event.backend);
    countRequest(server, event.status);
    server.latency.observe(event.durationMs / 1000);
  };

  const onWebSocketClose = (event: ProxyEventOf<'websocket-close'>): void => {
    const server = table.server(event.pool, event.backend);
    add(server, SLOT.clientToBackendMessages, event.clientToBackend.messages);
    add(server, SLOT.clientToBackendBytes, event.clientToBackend.bytes);
    add(server, SLOT.backendToClientMessages, event.backendToClient.messages);
    add(server, SLOT.backendToClientBytes, event.backendToClient.bytes);
    reasons.closedWith(event.code).inc();
  };

  const observe = (event: ProxyEvent): void => {
    switch (event.type) {
      case 'request':
        return onRequest(event);
      case 'retry':
        return add(table.server(event.pool, event.backend), SLOT.retries);
      case 'health':
        if (!event.healthy && event.cause === 'ejection') {
          add(table.server(event.pool, event.backend), SLOT.ejections);
        }
        return;
      case 'health-check': {
        const slot = event.up ? SLOT.checksUp : SLOT.checksDown;
        return add(table.server(event.pool, event.backend), slot);
      }
      case 'client-error':
        if (event.rejected !== undefined) reasons.rejected(event.rejected).inc();
        return;
      case 'websocket-rejected':
        return reasons.rejected(event.rejected).inc();
      case 'websocket-close':
        return onWebSocketClose(event);
      case 'config-applied':
        return reasons.reloads.applied.inc();
      case 'config-rejected':
        return reasons.reloads.rejected.inc();
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
