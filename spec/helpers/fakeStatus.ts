import type { OutOfRotationCause } from '../../src/events';
import type { PoolStatus, ProxyStatus, ServerStatus } from '../../src/observability/statusReport';

/** Prometheus' default buckets, as `[admin] metrics_buckets` has them. */
const BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** A server of a `/status` document in rotation with weight 1 and no traffic; `changes` on top. */
export function quietServer(
  name: string,
  address: string,
  bounds: readonly number[],
  changes: Partial<ServerStatus> = {},
): ServerStatus {
  return {
    name,
    address,
    inRotation: true,
    out: null,
    weight: { static: 1, effective: 1 },
    workers: { busy: 0, idle: 0, connecting: 0 },
    queueDepth: 0,
    requests: { inFlight: 0, served: 0, failed: 0, abandoned: 0 },
    websockets: { open: 0, total: 0 },
    lastHealthCheck: null,
    latency: { bounds, counts: bounds.map(() => 0).concat(0), sum: 0 },
    ...changes,
  };
}

/** How one fake server behaves while in rotation. */
export interface FakeTraffic {
  readonly requestsPerSecond: number;
  readonly errorRate: number;
  /** Median latency in seconds; latencies are log-normal around it. */
  readonly medianSeconds: number;
}

interface FakeServer {
  status: ServerStatus;
  readonly traffic: FakeTraffic;
  readonly perBucket: number[];
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] extends object ? Mutable<T[K]> : T[K] };

/** A deterministic source of numbers in [0, 1) (mulberry32), so screenshots repeat. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A `/status` document that changes like a busy proxy's: each tick adds a second of traffic to
 * every server in rotation. Tests take servers out and put them back.
 */
export class FakeStatus {
  private readonly servers = new Map<string, FakeServer>();
  private readonly random = seeded(42);
  private now: number;
  private readonly startedAt: number;

  constructor(
    now: number,
    traffic: Record<string, FakeTraffic>,
    private readonly pool = 'http',
    uptimeSeconds = 3 * 3600 + 12 * 60,
  ) {
    this.now = now;
    this.startedAt = now - uptimeSeconds * 1000;
    Object.entries(traffic).forEach(([name, serverTraffic], index) => {
      const status = quietServer(name, `10.0.3.${11 + index}:8080`, BOUNDS, {
        workers: { busy: 0, idle: 4, connecting: 0 },
      }) as Mutable<ServerStatus>;
      this.servers.set(name, {
        status,
        traffic: serverTraffic,
        perBucket: [...status.latency.counts],
      });
    });
  }

  private server(name: string): FakeServer {
    const server = this.servers.get(name);
    if (!server) throw new Error(`no fake server ${name}`);
    return server;
  }

  /** A normally distributed number (Box–Muller). */
  private normal(): number {
    return Math.sqrt(-2 * Math.log(1 - this.random())) * Math.cos(2 * Math.PI * this.random());
  }

  /** One second of traffic: requests, failures, latencies, workers and health checks. */
  tick(seconds = 1): void {
    this.now += seconds * 1000;
    for (const server of this.servers.values()) {
      const status = server.status as Mutable<ServerStatus>;
      const at = new Date(this.now).toISOString();
      const wave = 1 + 0.25 * Math.sin(this.now / 20_000 + status.name.length);
      status.lastHealthCheck = status.inRotation
        ? { up: true, latencyMs: 1 + this.random() * 2, at }
        : status.lastHealthCheck;
      if (!status.inRotation) {
        status.workers = { busy: 0, idle: 1, connecting: 0 };
        continue;
      }
      const requests = Math.round(
        server.traffic.requestsPerSecond * seconds * wave * (0.9 + 0.2 * this.random()),
      );
      let failed = 0;
      for (let i = 0; i < requests; i++) {
        const latency = server.traffic.medianSeconds * wave * Math.exp(0.6 * this.normal());
        const bucket = BOUNDS.findIndex((bound) => latency <= bound);
        server.perBucket[bucket === -1 ? BOUNDS.length : bucket]! += 1;
        status.latency.sum += latency;
        if (this.random() < server.traffic.errorRate) failed++;
      }
      status.requests.served += requests - failed;
      status.requests.failed += failed;
      status.requests.inFlight = Math.round(requests * server.traffic.medianSeconds * 1.5);
      let total = 0;
      status.latency.counts = server.perBucket.map((count) => (total += count));
      const busy = Math.min(8, status.requests.inFlight);
      status.workers = { busy, idle: Math.max(0, 4 - busy), connecting: 0 };
      status.websockets = { open: 3 + (status.name.length % 3), total: 40 };
    }
  }

  /** Takes a server out of rotation, as the proxy would report it. */
  takeOut(name: string, cause: OutOfRotationCause, reason: string, returnsAt?: number): void {
    const status = this.server(name).status as Mutable<ServerStatus>;
    status.inRotation = false;
    status.weight.effective = 0;
    status.requests.inFlight = 0;
    status.websockets.open = 0;
    status.out = {
      cause,
      reason,
      ...(returnsAt === undefined ? {} : { returnsAt: new Date(returnsAt).toISOString() }),
    };
    if (cause === 'health-check') {
      status.lastHealthCheck = {
        up: false,
        latencyMs: 2000,
        at: new Date(this.now).toISOString(),
        reason,
      };
    }
  }

  /** Sets a server's weights (the effective one follows it while in rotation). */
  weigh(name: string, weight: number): void {
    const status = this.server(name).status as Mutable<ServerStatus>;
    status.weight = { static: weight, effective: status.inRotation ? weight : 0 };
  }

  get time(): number {
    return this.now;
  }

  document(): ProxyStatus {
    const pool: PoolStatus = {
      name: this.pool,
      algorithm: 'least-connections',
      healthChecks: true,
      rejected: { queue_full: 2 },
      servers: [...this.servers.values()].map((server) => structuredClone(server.status)),
    };
    return {
      version: '0.1.0',
      startedAt: new Date(this.startedAt).toISOString(),
      uptimeSeconds: Math.round((this.now - this.startedAt) / 100) / 10,
      configFile: '/etc/rxproxy/rxproxy.ini',
      lastReload: null,
      ready: true,
      readiness: 'ready',
      requestsInFlight: pool.servers.reduce((sum, server) => sum + server.requests.inFlight, 0),
      pools: [pool],
      routes: [],
    };
  }
}
