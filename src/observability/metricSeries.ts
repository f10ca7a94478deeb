import { Counter, type Registry } from 'prom-client';
import { BucketHistogram, type HistogramSeries } from './bucketHistogram';
import { RequestCounter, type RequestCounts } from './requestCounter';

/** `rxproxy_rejected_total` series that exist from the start, at 0. */
export const BUILT_IN_REJECT_REASONS = [
  'queue_full',
  'queue_timeout',
  'pending_full',
  'no_healthy_backend',
  'header_timeout',
  'body_timeout',
  'too_large',
  'bad_request',
  'shutting_down',
  'rate_limited',
  'forbidden',
  'hook_failed',
  'hook_reply',
] as const;

type CounterChild = Counter.Internal;

/** One traffic direction of a server's WebSockets. */
export interface WebSocketSeries {
  readonly messages: CounterChild;
  readonly bytes: CounterChild;
}

/** One server's series, looked up once: an event costs two map lookups and an increment. */
export interface ServerSeries {
  readonly requests: RequestCounts;
  readonly duration: HistogramSeries;
  readonly ejections: CounterChild;
  readonly checksUp: CounterChild;
  readonly checksDown: CounterChild;
  readonly retries: CounterChild;
  readonly clientToBackend: WebSocketSeries;
  readonly backendToClient: WebSocketSeries;
}

interface PoolSeries {
  /** The proxy's own answers (`server=""`). */
  readonly ownAnswers: RequestCounts;
  readonly servers: Map<string, ServerSeries>;
}

const POOL_SERVER = ['pool', 'server'];

/** Every counter and the latency histogram: series are created at 0 the first time they are named. */
export class MetricSeries {
  private readonly pools = new Map<string, PoolSeries>();
  private readonly reasons = new Map<string, CounterChild>();
  private readonly closeCodes = new Map<number, CounterChild>();

  private readonly requests: RequestCounter;
  readonly duration: BucketHistogram;
  private readonly ejections: Counter<string>;
  private readonly healthChecks: Counter<string>;
  private readonly retries: Counter<string>;
  private readonly rejected: Counter<string>;
  private readonly wsMessages: Counter<string>;
  private readonly wsBytes: Counter<string>;
  private readonly wsCloses: Counter<string>;

  /** `collect` runs before the counters are read: servers new since the last scrape show at 0. */
  constructor(registry: Registry, buckets: readonly number[], collect: () => void) {
    const registers = [registry];
    const counter = (name: string, help: string, labelNames: string[]) =>
      new Counter({ name, help, labelNames, registers, collect });
    this.requests = new RequestCounter(registry, collect);
    this.duration = new BucketHistogram(
      'rxproxy_request_duration_seconds',
      'Time from request to the end of the response, for requests a server answered.',
      buckets,
      registry,
      collect,
    );
    this.ejections = counter(
      'rxproxy_ejections_total',
      'Times a server was ejected by passive health checks.',
      POOL_SERVER,
    );
    this.healthChecks = counter(
      'rxproxy_health_checks_total',
      'Active health check probes, by result.',
      ['pool', 'server', 'result'],
    );
    this.retries = counter(
      'rxproxy_retries_total',
      'Failed attempts at a server after which the request was sent on.',
      POOL_SERVER,
    );
    this.rejected = counter(
      'rxproxy_rejected_total',
      'Requests, handshakes and connections the proxy answered itself, by reason.',
      ['reason'],
    );
    this.wsMessages = counter(
      'rxproxy_websocket_messages_total',
      'WebSocket messages relayed, counted when the connection closes.',
      ['pool', 'server', 'direction'],
    );
    this.wsBytes = counter(
      'rxproxy_websocket_bytes_total',
      'WebSocket payload bytes relayed, counted when the connection closes.',
      ['pool', 'server', 'direction'],
    );
    this.wsCloses = counter(
      'rxproxy_websocket_closes_total',
      'Closed WebSocket connections, by close code.',
      ['code'],
    );
    for (const reason of BUILT_IN_REJECT_REASONS) this.rejectedFor(reason);
  }

  server(pool: string, name: string): ServerSeries {
    const series = this.pool(pool);
    return series.servers.get(name) ?? this.addServer(series, pool, name);
  }

  /** The proxy's own answers in the pool. */
  ownAnswers(pool: string): RequestCounts {
    return this.pool(pool).ownAnswers;
  }

  rejectedFor(reason: string): CounterChild {
    return this.reasons.get(reason) ?? this.add(this.reasons, reason, this.rejected.labels(reason));
  }

  closedWith(code: number): CounterChild {
    return (
      this.closeCodes.get(code) ?? this.add(this.closeCodes, code, this.wsCloses.labels(`${code}`))
    );
  }

  private pool(name: string): PoolSeries {
    let series = this.pools.get(name);
    if (!series) {
      series = { ownAnswers: this.requests.series(name, ''), servers: new Map() };
      this.pools.set(name, series);
    }
    return series;
  }

  private addServer(pool: PoolSeries, poolName: string, name: string): ServerSeries {
    const direction = (value: string): WebSocketSeries => ({
      messages: zeroed(this.wsMessages.labels(poolName, name, value)),
      bytes: zeroed(this.wsBytes.labels(poolName, name, value)),
    });
    const series: ServerSeries = {
      requests: this.requests.series(poolName, name),
      duration: this.duration.series({ pool: poolName, server: name }),
      ejections: zeroed(this.ejections.labels(poolName, name)),
      checksUp: zeroed(this.healthChecks.labels(poolName, name, 'up')),
      checksDown: zeroed(this.healthChecks.labels(poolName, name, 'down')),
      retries: zeroed(this.retries.labels(poolName, name)),
      clientToBackend: direction('client_to_backend'),
      backendToClient: direction('backend_to_client'),
    };
    pool.servers.set(name, series);
    return series;
  }

  private add<K>(map: Map<K, CounterChild>, key: K, child: CounterChild): CounterChild {
    map.set(key, zeroed(child));
    return child;
  }
}

function zeroed(child: CounterChild): CounterChild {
  child.inc(0);
  return child;
}
