import { performance } from 'node:perf_hooks';
import {
  Subject,
  asyncScheduler,
  type Observable,
  type SchedulerLike,
  type Subscription,
} from '../rx';
import type { PoolConfig, ServerConfig } from '../config';
import type { ProxyEvent } from '../events';
import type { WorkerCounts } from '../observability/liveState';
import {
  limitsOf,
  type PoolCommand,
  type PoolSignal,
  type SpawnReason,
} from '../streams/poolScaling';
import type { PendingLine } from './pendingLine';
import { upstreamError } from '../forwarding/failures';
import { UpstreamWorker, type WorkerOwner } from './upstreamWorker';

/** A request that needs a worker: the exchange implements it. */
export interface WorkerRequest {
  /** When its wait for a worker ends (arrival + queue_timeout), on performance.now()'s clock. */
  readonly deadline: number;
  runOn(worker: UpstreamWorker): void;
  /** The request never reached a worker; `error.code` says why. */
  failBeforeDispatch(error: NodeJS.ErrnoException): void;
  /** Whether the balancing algorithm lets this request run on `backend` now. */
  allows(backend: WorkerPool): boolean;
  /** The request left the pool's line for `backend` (its worker or its queue). */
  placedOn(backend: WorkerPool): void;
}

/**
 * `full`: no worker and no queue place; `unreachable`: connections to the backend fail and none
 * is open, so the request should go elsewhere at once.
 */
export type AcquireResult = 'running' | 'queued' | 'full' | 'unreachable';

export interface WorkerPoolDeps {
  readonly emit: (event: ProxyEvent) => void;
  /** The pool's waiting line: freed workers and queue places serve it first. */
  readonly line?: PendingLine;
  /** A connection attempt failed (refused, reset, timed out): a passive health failure. */
  readonly onConnectFailure?: (backend: WorkerPool) => void;
  readonly scheduler?: SchedulerLike;
}

interface Waiting {
  readonly request: WorkerRequest;
  readonly timer: NodeJS.Timeout;
}

/**
 * The workers of one backend and its bounded queue. Scaling decisions come from the
 * poolScaling pipeline; this class only carries them out and reports what happened.
 */
export class WorkerPool implements WorkerOwner {
  private readonly workers = new Map<number, UpstreamWorker>();
  /** Idle workers, most recently used last: the longest idle ones are retired first. */
  private readonly idle: UpstreamWorker[] = [];
  private readonly queue: Waiting[] = [];
  private readonly signals = new Subject<PoolSignal>();
  private scaling: Subscription | undefined;
  private connecting = 0;
  private closed = false;
  private spawnReasons = new Map<number, SpawnReason>();
  /** The last connection attempt failed and none has succeeded since. */
  private connectFailing = false;
  private connectFailure: NodeJS.ErrnoException | undefined;
  private readonly emit: (event: ProxyEvent) => void;
  private readonly scheduler: SchedulerLike;
  private readonly initialAttempts: Promise<void>;
  private settleInitial: () => void = () => undefined;
  private initialPending: number;

  constructor(
    private current: ServerConfig,
    private pool: PoolConfig,
    private readonly deps: WorkerPoolDeps,
  ) {
    this.emit = deps.emit;
    this.scheduler = deps.scheduler ?? asyncScheduler;
    this.initialPending = current.minWorkers;
    this.initialAttempts = new Promise((resolve) => {
      this.settleInitial = resolve;
      if (this.initialPending === 0) resolve();
    });
  }

  /** What the scaling pipeline reads: pressure, ready, lost, reachable and new limits. */
  get signals$(): Observable<PoolSignal> {
    return this.signals.asObservable();
  }

  /** The idle workers now, as the scaling pipeline samples them. */
  idleSample(at: number): PoolSignal {
    const workers = this.idle.map((worker) => ({ worker: worker.id, idleSince: worker.idleSince }));
    return { type: 'idle', at, workers };
  }

  /**
   * Carries out the commands of `scaling$` (its poolScaling pipeline) from now until destroy:
   * min_workers connect now. Resolves once each of them has connected or failed.
   */
  start(scaling$: Observable<PoolCommand>): Promise<void> {
    if (this.scaling || this.closed) return this.initialAttempts;
    this.scaling = scaling$.subscribe((command) => this.execute(command));
    return this.initialAttempts;
  }

  get name(): string {
    return this.current.name;
  }

  get server(): ServerConfig {
    return this.current;
  }

  /**
   * A reload's new settings: limits apply from now on (workers above a lower max retire as they
   * become idle), timeouts to connections opened from now on.
   */
  reconfigure(server: ServerConfig, pool: PoolConfig): void {
    this.current = server;
    this.pool = pool;
    this.signals.next({ type: 'limits', limits: limitsOf(server) });
  }

  /** Upstream connections by state, for the admin surface. */
  get workerCounts(): WorkerCounts {
    return { busy: this.busy, idle: this.idle.length, connecting: this.connecting };
  }

  get busy(): number {
    return this.workers.size - this.idle.length - this.connecting;
  }

  /** Requests running or waiting: what least-connections compares. */
  get load(): number {
    return this.busy + this.queue.length;
  }

  get queued(): number {
    return this.queue.length;
  }

  /** Why the last connection attempt failed, while attempts fail. */
  get lastConnectError(): NodeJS.ErrnoException | undefined {
    return this.connectFailing ? this.connectFailure : undefined;
  }

  /** Connections to the backend fail and none is open: requests should go elsewhere. */
  get unreachable(): boolean {
    return this.connectFailing && this.workers.size === this.connecting;
  }

  acquire(request: WorkerRequest): AcquireResult {
    if (this.unreachable) return 'unreachable';
    const worker = this.idle.pop();
    if (worker) {
      request.runOn(worker);
      return 'running';
    }
    if (!this.hasQueuePlace()) return 'full';
    this.enqueue(request);
    return 'queued';
  }

  /** Takes a request out of the queue (its client went away); the place goes to the line. */
  cancel(request: WorkerRequest): void {
    if (this.removeFromQueue(request)) this.serveLine();
  }

  /**
   * Gives idle workers and free queue places to the pool's waiting line, oldest allowed request
   * first. Called when the backend may have become usable (a worker freed, a backend returned).
   */
  serveLine(): void {
    const line = this.deps.line;
    if (!line || line.length === 0 || this.closed || this.unreachable) return;
    for (;;) {
      const hasWorker = this.idle.length > 0;
      if (!hasWorker && !this.hasQueuePlace()) return;
      const request = line.takeFor(this);
      if (!request) return;
      request.placedOn(this);
      const worker = this.idle.pop();
      if (worker) request.runOn(worker);
      else this.enqueue(request);
    }
  }

  /** The backend passed a health check: if connections were failing, try one now. */
  tryConnectingNow(): void {
    if (this.connectFailing && !this.closed) this.signals.next({ type: 'reachable' });
  }

  /** The request on `worker` ended; a worker that may not be reused is closed and replaced. */
  release(worker: UpstreamWorker, reusable: boolean): void {
    if (worker.state === 'closed') return;
    if (!reusable || worker.retireWhenDone || this.closed) {
      this.removeWorker(worker, worker.retireWhenDone ? 'retired' : 'lost');
      if (!worker.retireWhenDone) {
        this.signals.next({ type: 'lost', worker: worker.id, connected: true });
      }
      return;
    }
    this.handOut(worker);
  }

  onReady(worker: UpstreamWorker): void {
    this.connecting--;
    this.connectFailing = false;
    this.emit({
      type: 'worker',
      backend: this.server.name,
      worker: worker.id,
      action: 'connected',
      workers: this.workers.size,
    });
    this.settleOneInitial(worker.id);
    this.signals.next({ type: 'ready', worker: worker.id });
    this.handOut(worker);
  }

  onLost(worker: UpstreamWorker, connected: boolean, error: Error | undefined): void {
    if (this.workers.get(worker.id) !== worker) return;
    if (!connected) {
      this.connecting--;
      this.settleOneInitial(worker.id);
    }
    this.removeWorker(worker, 'lost', error);
    if (!connected) {
      this.connectFailing = true;
      this.connectFailure = connectError(error);
      this.deps.onConnectFailure?.(this);
      // Nothing was sent: queued requests of any method go to another backend.
      if (this.unreachable) this.failQueue(this.connectFailure);
    }
    this.signals.next({ type: 'lost', worker: worker.id, connected });
    if (this.queue.length > 0) {
      this.signals.next({
        type: 'pressure',
        waiting: this.queue.length,
        connecting: this.connecting,
      });
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.scaling?.unsubscribe();
    this.signals.complete();
    this.failQueue(upstreamError('SHUTTING_DOWN', 'the proxy is shutting down'));
    for (const worker of [...this.workers.values()]) {
      if (worker.state !== 'busy') this.removeWorker(worker, 'retired');
    }
    this.settleInitial();
  }

  /** Closes the workers still busy after the drain. */
  destroy(): void {
    this.close();
    for (const worker of [...this.workers.values()]) this.removeWorker(worker, 'retired');
  }

  private execute(command: PoolCommand): void {
    if (command.type === 'spawn') {
      this.spawn(command.worker, command.reason);
    } else {
      this.retire(command.worker);
    }
  }

  private spawn(id: number, reason: SpawnReason): void {
    if (this.closed) return;
    this.connecting++;
    const worker = new UpstreamWorker(id, this.server, this.pool, this);
    this.workers.set(id, worker);
    this.spawnReasons.set(id, reason);
    this.emit({
      type: 'worker',
      backend: this.server.name,
      worker: id,
      action: 'spawned',
      reason,
      workers: this.workers.size,
    });
  }

  private retire(id: number): void {
    const worker = this.workers.get(id);
    if (!worker) return;
    if (worker.state === 'busy') {
      worker.retireWhenDone = true;
      return;
    }
    this.removeWorker(worker, 'retired');
  }

  private hasQueuePlace(): boolean {
    return !this.closed && this.queue.length < this.server.bufferSize + this.connecting;
  }

  private enqueue(request: WorkerRequest): void {
    const wait = Math.max(0, request.deadline - performance.now());
    const timer = setTimeout(() => this.expire(request), wait);
    this.queue.push({ request, timer });
    this.queueChanged();
    this.signals.next({
      type: 'pressure',
      waiting: this.queue.length,
      connecting: this.connecting,
    });
  }

  private handOut(worker: UpstreamWorker): void {
    const next = this.queue.shift();
    if (next) {
      clearTimeout(next.timer);
      this.queueChanged();
      next.request.runOn(worker);
      this.serveLine();
      return;
    }
    const waiting = this.deps.line?.takeFor(this);
    if (waiting) {
      waiting.placedOn(this);
      waiting.runOn(worker);
      return;
    }
    worker.state = 'idle';
    worker.idleSince = this.scheduler.now();
    this.idle.push(worker);
  }

  private removeWorker(worker: UpstreamWorker, action: 'retired' | 'lost', error?: Error): void {
    const index = this.idle.indexOf(worker);
    if (index >= 0) this.idle.splice(index, 1);
    if (worker.state === 'connecting') this.connecting--;
    worker.close();
    this.workers.delete(worker.id);
    this.spawnReasons.delete(worker.id);
    this.emit({
      type: 'worker',
      backend: this.server.name,
      worker: worker.id,
      action,
      workers: this.workers.size,
      ...(error ? { error: error.message } : {}),
    });
  }

  private removeFromQueue(request: WorkerRequest): boolean {
    const index = this.queue.findIndex((waiting) => waiting.request === request);
    if (index < 0) return false;
    const [waiting] = this.queue.splice(index, 1);
    if (waiting) clearTimeout(waiting.timer);
    this.queueChanged();
    return true;
  }

  private expire(request: WorkerRequest): void {
    if (!this.removeFromQueue(request)) return;
    request.failBeforeDispatch(upstreamError('QUEUE_TIMEOUT', 'waited queue_timeout for a worker'));
    this.serveLine();
  }

  private failQueue(error: NodeJS.ErrnoException): void {
    if (this.queue.length === 0) return;
    for (const waiting of this.queue.splice(0)) {
      clearTimeout(waiting.timer);
      waiting.request.failBeforeDispatch(error);
    }
    this.queueChanged();
  }

  private queueChanged(): void {
    this.emit({ type: 'queue', backend: this.server.name, depth: this.queue.length });
  }

  private settleOneInitial(id: number): void {
    if (this.spawnReasons.get(id) !== 'min' || this.initialPending <= 0) return;
    this.spawnReasons.delete(id);
    this.initialPending--;
    if (this.initialPending === 0) this.settleInitial();
  }
}

function connectError(error: NodeJS.ErrnoException | undefined): NodeJS.ErrnoException {
  return error?.code === undefined
    ? upstreamError('ECONNREFUSED', error?.message ?? 'connection failed')
    : error;
}
