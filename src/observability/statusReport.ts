import type { OutOfRotationCause } from '../events';
import type { LiveServer, LiveState, WorkerCounts } from './liveState';
import type { ServerTraffic, TrafficStats } from './trafficStats';

/** Latency of one server's requests so far, as cumulative histogram buckets. */
export interface LatencyHistogram {
  /** Upper bounds in seconds (`[admin] metrics_buckets`); the last bucket is +Inf. */
  readonly bounds: readonly number[];
  /** Requests at or under each bound, then the total (+Inf): bounds.length + 1 entries. */
  readonly counts: readonly number[];
  readonly sum: number;
}

export interface ServerStatus {
  readonly name: string;
  readonly address: string;
  readonly inRotation: boolean;
  /** Why it is out of rotation; null while in. `returnsAt` (ISO time) for ejections. */
  readonly out: {
    readonly cause: OutOfRotationCause;
    readonly reason: string;
    readonly returnsAt?: string;
  } | null;
  readonly weight: { readonly static: number; readonly effective: number };
  /** Upstream connections; null for a WebSocket-only pool. */
  readonly workers: WorkerCounts | null;
  readonly queueDepth: number;
  readonly requests: {
    readonly inFlight: number;
    /** Answered by the server with a status below 500. */
    readonly served: number;
    /** 5xx answers and responses cut by a failure, on this server. */
    readonly failed: number;
    /** The client left before the response was complete (logged as 499). */
    readonly abandoned: number;
  };
  readonly websockets: { readonly open: number; readonly total: number };
  /** The last active health check probe; null without health checks or before the first. */
  readonly lastHealthCheck: {
    readonly up: boolean;
    readonly latencyMs: number;
    readonly at: string;
    readonly reason?: string;
  } | null;
  readonly latency: LatencyHistogram;
}

export interface PoolStatus {
  readonly name: string;
  readonly algorithm: string;
  readonly healthChecks: boolean;
  /** Requests and handshakes the proxy answered itself (no server chosen), by reason. */
  readonly rejected: Readonly<Record<string, number>>;
  readonly servers: readonly ServerStatus[];
}

/** One configured `[route:NAME]` and what it has taken since start. */
export interface RouteStatus {
  readonly name: string;
  /** HTTP requests answered, the proxy's own answers included. */
  readonly requests: number;
  /** WebSockets opened through it. */
  readonly websockets: number;
}

/** `GET /status`. */
export interface ProxyStatus {
  readonly version: string;
  readonly startedAt: string;
  readonly uptimeSeconds: number;
  readonly configFile: string;
  readonly ready: boolean;
  /** `ready`, or why not. */
  readonly readiness: string;
  readonly requestsInFlight: number;
  /** The last configuration reload; null before the first. */
  readonly lastReload: {
    readonly at: string;
    readonly result: 'applied' | 'rejected';
    readonly trigger: string;
    readonly summary?: string;
    readonly problems?: readonly string[];
  } | null;
  readonly pools: readonly PoolStatus[];
  /** Every configured route, in file order; empty without routes. */
  readonly routes: readonly RouteStatus[];
}

export interface StatusMeta {
  readonly version: string;
  readonly configFile: string;
  /** ms since the epoch. */
  readonly startedAt: number;
  readonly now: number;
}

const iso = (ms: number) => new Date(ms).toISOString();

function serverStatus(live: LiveServer, traffic: ServerTraffic): ServerStatus {
  const check = traffic.lastHealthCheck;
  return {
    name: live.name,
    address: live.address,
    inRotation: live.inRotation,
    out: live.down
      ? {
          cause: live.down.cause,
          reason: live.down.reason,
          ...(live.down.returnsAt === undefined ? {} : { returnsAt: iso(live.down.returnsAt) }),
        }
      : null,
    weight: { static: live.staticWeight, effective: live.effectiveWeight },
    workers: live.workers ?? null,
    queueDepth: live.queueDepth,
    requests: {
      inFlight: live.inFlight,
      served: traffic.served,
      failed: traffic.failed,
      abandoned: traffic.abandoned,
    },
    websockets: { open: live.openWebSockets, total: traffic.websockets },
    lastHealthCheck: check
      ? {
          up: check.up,
          latencyMs: check.latencyMs,
          at: iso(check.at),
          ...(check.reason === undefined ? {} : { reason: check.reason }),
        }
      : null,
    latency: {
      bounds: traffic.latency.bounds,
      counts: traffic.latency.cumulative(),
      sum: traffic.latency.sum,
    },
  };
}

/** The `/status` document: the live state joined with the traffic seen so far. */
export function statusReport(live: LiveState, stats: TrafficStats, meta: StatusMeta): ProxyStatus {
  const readiness = live.readiness();
  return {
    version: meta.version,
    startedAt: iso(meta.startedAt),
    uptimeSeconds: Math.round((meta.now - meta.startedAt) / 100) / 10,
    configFile: meta.configFile,
    ready: readiness.ready,
    readiness: readiness.reason,
    requestsInFlight: live.requestsInFlight(),
    lastReload: stats.lastReload ? { ...stats.lastReload, at: iso(stats.lastReload.at) } : null,
    pools: live.pools().map((pool) => ({
      name: pool.name,
      algorithm: pool.algorithm,
      healthChecks: pool.healthChecks,
      rejected: stats.rejectedIn(pool.name),
      servers: pool.servers.map((server) =>
        serverStatus(server, stats.server(pool.name, server.name)),
      ),
    })),
    routes: (live.routes?.() ?? []).map((name) => {
      const { requests, websockets } = stats.route(name);
      return { name, requests, websockets };
    }),
  };
}
