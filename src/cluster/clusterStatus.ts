import type {
  LatencyHistogram,
  PoolStatus,
  ProxyStatus,
  RouteStatus,
  ServerStatus,
} from '../observability/statusReport';
import type { WorkerCounts } from '../observability/liveState';
import type { WorkerFigures } from './messages';

/** One worker's last answer to the primary's status ask. */
export interface WorkerAnswer {
  readonly figures: WorkerFigures;
  /** The worker's own `/status`. */
  readonly status: ProxyStatus;
  /** When the primary received it, ms since the epoch. */
  readonly at: number;
}

export interface ClusterStatusMeta {
  readonly version: string;
  readonly configFile: string;
  readonly startedAt: number;
  readonly now: number;
  /** The number of workers the primary keeps running. */
  readonly workers: number;
  readonly readiness: { readonly ready: boolean; readonly reason: string };
  /** A reload the primary rejected (it never reached the workers), when it was the last one. */
  readonly rejectedReload?: ProxyStatus['lastReload'];
}

/** A server's figures summed over the workers. */
export interface ServerTotals {
  readonly pool: string;
  readonly name: string;
  readonly inFlight: number;
  readonly openWebSockets: number;
  readonly queueDepth: number;
  /** Upstream connections open, over every worker (each keeps its own, up to max_workers). */
  readonly connections: number;
  /** Workers that have it in rotation. */
  readonly inRotationIn: number;
}

/** The primary's `/status`: a single process's, over every worker, and the cluster's own. */
export interface ClusterStatus extends ProxyStatus {
  readonly workers: number;
  readonly totals: {
    readonly requestsInFlight: number;
    readonly servers: readonly ServerTotals[];
  };
  readonly processes: readonly WorkerFigures[];
}

const sum = (a: number, b: number) => a + b;

function sumCounts(a: WorkerCounts | null, b: WorkerCounts | null): WorkerCounts | null {
  if (!a || !b) return a ?? b;
  return {
    busy: a.busy + b.busy,
    idle: a.idle + b.idle,
    connecting: a.connecting + b.connecting,
  };
}

/** `histogram`'s observations at or under `bound` (exact when `bound` is one of its bounds). */
function countAtOrUnder(histogram: LatencyHistogram, bound: number): number {
  let count = 0;
  histogram.bounds.forEach((own, index) => {
    if (own <= bound) count = histogram.counts[index] ?? count;
  });
  return count;
}

/**
 * Two cumulative histograms added bucket by bucket. Every worker has the `[admin]
 * metrics_buckets` it started with; one started after a change of them has other bounds, and
 * its observations are counted in `a`'s buckets at the largest of its own bounds under each (the
 * total and the sum stay exact).
 */
export function mergeLatency(a: LatencyHistogram, b: LatencyHistogram): LatencyHistogram {
  const same = a.bounds.length === b.bounds.length && a.bounds.every((x, i) => x === b.bounds[i]);
  const total = (histogram: LatencyHistogram) => histogram.counts[histogram.bounds.length] ?? 0;
  const counts = a.counts.map((count, index) => {
    const bound = a.bounds[index];
    if (same) return count + (b.counts[index] ?? 0);
    return count + (bound === undefined ? total(b) : countAtOrUnder(b, bound));
  });
  return { bounds: a.bounds, counts, sum: a.sum + b.sum };
}

const atOf = (value: { readonly at: string } | null) => (value ? Date.parse(value.at) : -Infinity);

/** The later of two timestamped values; `a` when they tie. */
function later<T extends { readonly at: string }>(a: T | null, b: T | null): T | null {
  return atOf(b) > atOf(a) ? b : a;
}

/**
 * One server over two workers: `a`'s health (the more recent answer's: every worker balances
 * over the primary's snapshot) and the counters of both added.
 */
function mergeServer(a: ServerStatus, b: ServerStatus): ServerStatus {
  return {
    ...a,
    workers: sumCounts(a.workers, b.workers),
    queueDepth: a.queueDepth + b.queueDepth,
    requests: {
      inFlight: a.requests.inFlight + b.requests.inFlight,
      served: a.requests.served + b.requests.served,
      failed: a.requests.failed + b.requests.failed,
      abandoned: a.requests.abandoned + b.requests.abandoned,
    },
    websockets: {
      open: a.websockets.open + b.websockets.open,
      total: a.websockets.total + b.websockets.total,
    },
    lastHealthCheck: later(a.lastHealthCheck, b.lastHealthCheck),
    latency: mergeLatency(a.latency, b.latency),
  };
}

function sumRecords(
  a: Readonly<Record<string, number>>,
  b: Readonly<Record<string, number>>,
): Record<string, number> {
  const total = { ...a };
  for (const [key, count] of Object.entries(b)) total[key] = (total[key] ?? 0) + count;
  return total;
}

/**
 * Items by name over the workers, in the first one's order then any the others add; `merge`
 * joins an item with the same name's of a later worker.
 */
function mergeByName<T extends { readonly name: string }>(
  lists: readonly (readonly T[])[],
  merge: (a: T, b: T) => T,
): T[] {
  const byName = new Map<string, T>();
  for (const list of lists) {
    for (const item of list) {
      const before = byName.get(item.name);
      byName.set(item.name, before ? merge(before, item) : item);
    }
  }
  return [...byName.values()];
}

function mergePool(a: PoolStatus, b: PoolStatus): PoolStatus {
  return {
    ...a,
    rejected: sumRecords(a.rejected, b.rejected),
    servers: mergeByName([a.servers, b.servers], mergeServer),
  };
}

const mergeRoute = (a: RouteStatus, b: RouteStatus): RouteStatus => ({
  name: a.name,
  requests: a.requests + b.requests,
  websockets: a.websockets + b.websockets,
});

/** A server's figures over the workers' figures, as `totals.servers` has them. */
function serverTotals(figures: readonly WorkerFigures[]): ServerTotals[] {
  const servers = new Map<string, ServerTotals>();
  for (const worker of figures) {
    for (const pool of worker.pools) {
      for (const server of pool.servers) {
        const key = JSON.stringify([pool.name, server.name]);
        const before = servers.get(key);
        servers.set(key, {
          pool: pool.name,
          name: server.name,
          inFlight: (before?.inFlight ?? 0) + server.inFlight,
          openWebSockets: (before?.openWebSockets ?? 0) + server.openWebSockets,
          queueDepth: (before?.queueDepth ?? 0) + server.queueDepth,
          connections:
            (before?.connections ?? 0) +
            (server.workers ? server.workers.busy + server.workers.idle : 0),
          inRotationIn: (before?.inRotationIn ?? 0) + (server.inRotation ? 1 : 0),
        });
      }
    }
  }
  return [...servers.values()];
}

/**
 * The primary's `/status`: a single process's document over every worker (counters, latency
 * buckets, connections and queues summed; health, last health check and last reload the most
 * recent), then each worker as it sees itself (pid, requests in flight, readiness, pools and
 * servers) and the totals over all workers. `ready` and `readiness` are the cluster's.
 */
export function clusterStatus(
  answers: readonly WorkerAnswer[],
  meta: ClusterStatusMeta,
): ClusterStatus {
  const figures = answers.map((answer) => answer.figures);
  // The most recent answer first: its health and names' order win.
  const statuses = [...answers].sort((a, b) => b.at - a.at).map((answer) => answer.status);
  return {
    version: meta.version,
    startedAt: new Date(meta.startedAt).toISOString(),
    uptimeSeconds: Math.round((meta.now - meta.startedAt) / 100) / 10,
    configFile: meta.configFile,
    ready: meta.readiness.ready,
    readiness: meta.readiness.reason,
    requestsInFlight: statuses.map((status) => status.requestsInFlight).reduce(sum, 0),
    lastReload: statuses
      .map((status) => status.lastReload)
      .reduce(later, meta.rejectedReload ?? null),
    pools: mergeByName(
      statuses.map((status) => status.pools),
      mergePool,
    ),
    routes: mergeByName(
      statuses.map((status) => status.routes),
      mergeRoute,
    ),
    workers: meta.workers,
    totals: {
      requestsInFlight: figures.map((worker) => worker.requestsInFlight).reduce(sum, 0),
      servers: serverTotals(figures),
    },
    processes: figures,
  };
}

/** Ready while not stopping and at least one worker is ready to serve. */
export function clusterReadiness(
  figures: readonly WorkerFigures[],
  stopping: boolean,
): { ready: boolean; reason: string } {
  if (stopping) return { ready: false, reason: 'shutting down' };
  if (figures.some((worker) => worker.ready)) return { ready: true, reason: 'ready' };
  return { ready: false, reason: figures[0]?.reason ?? 'no worker has started' };
}
