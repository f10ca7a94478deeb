import type { ProxyEvent } from '../events';

/** Cumulative latency buckets with fixed bounds, like a Prometheus histogram. */
export class LatencyBuckets {
  /** Per bucket (not cumulative); the last one is +Inf. */
  private readonly counts: number[];
  sum = 0;

  constructor(readonly bounds: readonly number[]) {
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }

  observe(seconds: number): void {
    let index = 0;
    while (index < this.bounds.length && seconds > (this.bounds[index] ?? Infinity)) index++;
    this.counts[index] = (this.counts[index] ?? 0) + 1;
    this.sum += seconds;
  }

  /** Back to no observations. */
  reset(): void {
    this.counts.fill(0);
    this.sum = 0;
  }

  /** Requests at or under each bound, then the total. */
  cumulative(): number[] {
    let total = 0;
    return this.counts.map((count) => (total += count));
  }
}

export interface LastHealthCheck {
  readonly up: boolean;
  readonly latencyMs: number;
  /** ms since the epoch. */
  readonly at: number;
  readonly reason?: string;
}

export interface LastReload {
  /** ms since the epoch. */
  readonly at: number;
  readonly result: 'applied' | 'rejected';
  readonly trigger: string;
  readonly summary?: string;
  readonly problems?: readonly string[];
}

/** What one server has done since start. */
export interface ServerTraffic {
  served: number;
  failed: number;
  abandoned: number;
  /** WebSockets opened through it. */
  websockets: number;
  lastHealthCheck: LastHealthCheck | undefined;
  readonly latency: LatencyBuckets;
}

/** What one route has taken since start. */
export interface RouteTraffic {
  /** HTTP requests answered, the proxy's own answers included. */
  requests: number;
  /** WebSockets opened through it. */
  websockets: number;
}

const CLIENT_CLOSED_REQUEST = 499;

/**
 * Per-server counters for `/status`, kept by a subscriber of events$ with plain additions: the
 * data plane neither knows nor waits for it.
 */
export class TrafficStats {
  private readonly servers = new Map<string, ServerTraffic>();
  private readonly rejected = new Map<string, Map<string, number>>();
  private readonly routes = new Map<string, RouteTraffic>();
  /** The last reload's outcome, for `/status`. */
  lastReload: LastReload | undefined;

  constructor(
    private readonly bounds: readonly number[],
    private readonly now: () => number = Date.now,
  ) {}

  server(pool: string, name: string): ServerTraffic {
    const key = `${pool}\u0000${name}`;
    let traffic = this.servers.get(key);
    if (!traffic) {
      traffic = {
        served: 0,
        failed: 0,
        abandoned: 0,
        websockets: 0,
        lastHealthCheck: undefined,
        latency: new LatencyBuckets(this.bounds),
      };
      this.servers.set(key, traffic);
    }
    return traffic;
  }

  route(name: string): RouteTraffic {
    let traffic = this.routes.get(name);
    if (!traffic) this.routes.set(name, (traffic = { requests: 0, websockets: 0 }));
    return traffic;
  }

  /** The pool's requests the proxy answered itself, by reason. */
  rejectedIn(pool: string): Record<string, number> {
    return Object.fromEntries(this.rejected.get(pool) ?? []);
  }

  private reject(pool: string, reason: string): void {
    let reasons = this.rejected.get(pool);
    if (!reasons) this.rejected.set(pool, (reasons = new Map<string, number>()));
    reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
  }

  observe(event: ProxyEvent): void {
    switch (event.type) {
      case 'request': {
        if (event.route !== undefined) this.route(event.route).requests++;
        // The proxy's own answers count for the pool, not for a server it may have waited at.
        if (event.rejected !== undefined) {
          this.reject(event.pool, event.rejected);
          return;
        }
        if (event.backend === undefined) return;
        const traffic = this.server(event.pool, event.backend);
        if (event.status === CLIENT_CLOSED_REQUEST) traffic.abandoned++;
        else if (event.status >= 500 || event.error !== undefined) traffic.failed++;
        else traffic.served++;
        traffic.latency.observe(event.durationMs / 1000);
        return;
      }
      case 'websocket-rejected':
        this.reject(event.pool, event.rejected);
        return;
      case 'websocket-open':
        this.server(event.pool, event.backend).websockets++;
        if (event.route !== undefined) this.route(event.route).websockets++;
        return;
      case 'config-applied':
      case 'config-rejected':
        this.lastReload = {
          at: this.now(),
          result: event.type === 'config-applied' ? 'applied' : 'rejected',
          trigger: event.trigger,
          ...(event.type === 'config-applied'
            ? { summary: event.summary }
            : { problems: event.problems }),
        };
        return;
      case 'health-check':
        this.server(event.pool, event.backend).lastHealthCheck = {
          up: event.up,
          latencyMs: event.latencyMs,
          at: this.now(),
          ...(event.reason === undefined ? {} : { reason: event.reason }),
        };
        return;
      default:
        return;
    }
  }
}
