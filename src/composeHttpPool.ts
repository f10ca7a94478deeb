import type { IncomingMessage } from 'node:http';
import type { OperatorFunction } from './rx';
import { createHealthProber, type HealthProber } from './adapters/healthProbe';
import type { ExchangeContext, ExchangeOutcome } from './adapters/httpExchange';
import type { ExchangeHooks } from './adapters/hookRunner';
import { PendingLine } from './adapters/pendingLine';
import type { SharedProbes } from './adapters/sharedProbes';
import { MemoryBudget, type BodyLimits } from './adapters/requestBody';
import { upstreamError } from './forwarding/failures';
import { WorkerPool } from './adapters/workerPool';
import { BackendGroup, type RemoteHealth } from './backendGroup';
import type { RandomSource } from './balancing';
import { workerPoolScaling } from './composePools';
import type { PoolConfig, ServerCommand } from './config';
import type { ProxyEvent } from './events';
import { hashKeyOf } from './forwarding/hashKey';
import { stickyCookieOf, type StickyCookie } from './forwarding/stickyCookie';
import type { HealthySnapshot } from './streams/healthySet';
import type { TrafficOutcome } from './operators/outlierEjection';
import { ServerSet } from './serverSet';
import { RuntimePoolView, type BalancingRuntime } from './composePoolView';

export type HashKeyOf = (req: IncomingMessage, address: string | undefined) => string | undefined;

/** consistent-hash's key for a request of `pool`; other algorithms need none. */
export const hashKeyFor = (pool: PoolConfig): HashKeyOf =>
  pool.algorithm === 'consistent-hash'
    ? (req, address) => hashKeyOf(pool.hashKey, req, address)
    : () => undefined;

export interface HttpPoolDeps {
  readonly emit: (event: ProxyEvent) => void;
  readonly random?: RandomSource;
  readonly mapSnapshots?: OperatorFunction<HealthySnapshot, HealthySnapshot>;
  /** How long removed servers drain, as the running configuration says. */
  readonly drainTimeoutMs: () => number;
  /** The proxy serves: new backends start connecting at once. */
  readonly started: () => boolean;
  /** Largest request body accepted, in bytes; 0 = no limit (`[frontend] max_body_size`). */
  readonly maxBodySize: () => number;
  /** `[frontend] body_timeout`. */
  readonly bodyTimeoutMs: () => number;
  /** One probe per server address, path and interval, whatever the pools listing it. */
  readonly probes?: SharedProbes;
  /** The pool's health is the cluster primary's. */
  readonly remote?: RemoteHealth;
}

/**
 * One HTTP pool as it runs: a worker pool per server (drained when removed), the pool's health
 * and balancing (BackendGroup), the line where requests wait when every backend is full, and the
 * settings an exchange reads per request. A reload hands it the pool's next config and commands.
 */
export class HttpPoolRuntime implements BalancingRuntime<WorkerPool> {
  readonly line: PendingLine;
  readonly workerPools: ServerSet<WorkerPool>;
  readonly group: BackendGroup<WorkerPool>;
  hashKey: HashKeyOf;
  sticky: StickyCookie | undefined;
  body: BodyLimits;
  /** None when the pool's health is remote: the cluster's primary probes. */
  private readonly prober: HealthProber | undefined;

  constructor(
    public pool: PoolConfig,
    private readonly deps: HttpPoolDeps,
  ) {
    this.line = new PendingLine(pool.maxPending);
    this.hashKey = hashKeyFor(pool);
    this.sticky = stickyCookieOf(pool);
    this.body = this.bodyLimits(new MemoryBudget(pool.requestBufferTotal));
    this.workerPools = new ServerSet<WorkerPool>(
      {
        create: (server, forPool) => {
          const backend = new WorkerPool(server, forPool, {
            emit: deps.emit,
            ...(forPool.maxPending > 0 ? { line: this.line } : {}),
            onConnectFailure: (member) => this.reportOutcome(member, false, 'connection'),
          });
          if (deps.started()) void backend.start(workerPoolScaling(backend));
          return backend;
        },
        update: (backend, server, forPool) => backend.reconfigure(server, forPool),
        // In-flight and queued requests finish, for up to drain_timeout; then the workers close.
        drain: (backend, done) => {
          const deadline = Date.now() + deps.drainTimeoutMs();
          const timer = setInterval(() => {
            if (backend.load === 0 || Date.now() >= deadline) {
              clearInterval(timer);
              done();
            }
          }, 50);
          return () => clearInterval(timer);
        },
        destroy: (backend) => backend.destroy(),
      },
      pool,
    );
    this.prober = deps.remote ? undefined : createHealthProber(() => this.pool, deps.probes);
    this.group = new BackendGroup(pool, this.workerPools.members, {
      ...(this.prober ? { probe: this.prober.probe } : {}),
      emit: deps.emit,
      ...(deps.random ? { random: deps.random } : {}),
      ...(deps.mapSnapshots ? { mapSnapshots: deps.mapSnapshots } : {}),
      ...(deps.remote ? { remote: deps.remote } : {}),
      // A backend back in rotation gets a connection attempt now and serves the line.
      onSnapshot: () => {
        for (const backend of this.workerPools.members) {
          if (!this.group.isInRotation(backend.name)) continue;
          backend.tryConnectingNow();
          backend.serveLine();
        }
      },
    });
  }

  private bodyLimits(budget: MemoryBudget): BodyLimits {
    return {
      bufferSize: this.pool.requestBufferSize,
      maxBodySize: this.deps.maxBodySize(),
      timeoutMs: this.deps.bodyTimeoutMs(),
      budget,
    };
  }

  member(name: string): WorkerPool | undefined {
    return this.workerPools.get(name);
  }

  /** Outcomes of a member that drains after its address changed say nothing of the new one. */
  reportOutcome(member: WorkerPool, ok: boolean, failure?: TrafficOutcome['failure']): void {
    if (this.workerPools.get(member.name) === member) {
      this.group.reportOutcome(member.name, ok, failure);
    }
  }

  /** The pool's part of a reload: new settings, servers added, changed and removed. */
  apply(next: PoolConfig, commands: readonly ServerCommand[]): void {
    this.pool = next;
    this.hashKey = hashKeyFor(next);
    this.sticky = stickyCookieOf(next);
    this.line.capacity = next.maxPending;
    this.body = this.bodyLimits(this.body.budget);
    this.body.budget.total = next.requestBufferTotal;
    this.workerPools.apply(commands, next);
  }

  /** After apply: the group takes the new members and settings. */
  reconfigureGroup(): void {
    this.group.reconfigure(this.pool, this.workerPools.members);
  }

  /** Health checks on, and every backend's pool connecting. */
  async start(): Promise<void> {
    this.group.start();
    await Promise.all(
      this.workerPools.members.map((backend) => backend.start(workerPoolScaling(backend))),
    );
  }

  /** Requests running, queued at a backend or waiting in the pool's line. */
  get load(): number {
    let load = this.line.length;
    for (const backend of this.workerPools.members) load += backend.load;
    for (const backend of this.workerPools.drainingMembers) load += backend.load;
    return load;
  }

  /** For a pool created while the proxy serves: its backends connect from creation. */
  startChecks(): void {
    this.group.start();
  }

  async release(): Promise<void> {
    this.line.close(upstreamError('SHUTTING_DOWN', 'the proxy is shutting down'));
    this.workerPools.destroyAll();
    this.group.stop();
    await this.prober?.close();
  }
}

/** What the exchanges of every pool share: the proxy's hooks, state and event sinks. */
export interface ExchangeSide {
  readonly hooks: () => ExchangeHooks | undefined;
  readonly clientAddress: (req: IncomingMessage) => string | undefined;
  readonly draining: () => boolean;
  readonly routeTo: (pool: string) => ExchangeContext | undefined;
  readonly onRetry: (pool: string, backend: string, code: string) => void;
  readonly onFinished: (pool: string, outcome: ExchangeOutcome) => void;
}

/**
 * What an exchange needs of the pool it goes to, read from the runtime as it is now. One class
 * for every pool: the exchanges' property reads see one object shape whichever pool serves
 * them (object literals with getters get a shape each).
 */
export class PoolExchangeContext extends RuntimePoolView<WorkerPool> implements ExchangeContext {
  constructor(
    private readonly http: HttpPoolRuntime,
    private readonly side: ExchangeSide,
  ) {
    super(http, side.clientAddress);
  }

  get hooks(): ExchangeHooks | undefined {
    return this.side.hooks();
  }
  get line(): PendingLine | undefined {
    return this.pool.maxPending > 0 ? this.http.line : undefined;
  }
  get body(): BodyLimits {
    return this.http.body;
  }
  // Properties, not methods: the exchange hands some of them on without their object.
  readonly routeTo = (pool: string) => this.side.routeTo(pool);
  readonly draining = () => this.side.draining();
  readonly onRetry = (backend: string, code: string) =>
    this.side.onRetry(this.pool.name, backend, code);
  readonly onFinished = (outcome: ExchangeOutcome) => this.side.onFinished(this.pool.name, outcome);
}
