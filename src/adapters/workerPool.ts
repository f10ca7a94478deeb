import {
  Subject,
  asyncScheduler,
  interval,
  map,
  merge,
  type SchedulerLike,
  type Subscription,
} from 'rxjs';
import type { PoolConfig, ServerConfig } from '../config';
import type { ProxyEvent } from '../events';
import {
  poolScaling,
  type PoolCommand,
  type PoolSignal,
  type SpawnReason,
} from '../streams/poolScaling';
import { UpstreamWorker, upstreamError, type WorkerOwner } from './upstreamWorker';

/** A request that needs a worker: the exchange implements it. */
export interface WorkerRequest {
  runOn(worker: UpstreamWorker): void;
  /** The request never reached a worker; `error.code` says why. */
  failBeforeDispatch(error: NodeJS.ErrnoException): void;
}

export type AcquireResult = 'running' | 'queued' | 'full';

interface Waiting {
  readonly request: WorkerRequest;
  readonly timer: NodeJS.Timeout;
}

/** How often idle workers are sampled for retirement: a quarter of worker_timeout, 50 ms to 1 s. */
export function idleSampleMs(workerTimeoutMs: number): number {
  return Math.min(1000, Math.max(50, Math.floor(workerTimeoutMs / 4)));
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
  private readonly initialAttempts: Promise<void>;
  private settleInitial: () => void = () => undefined;
  private initialPending: number;

  constructor(
    readonly server: ServerConfig,
    private readonly pool: PoolConfig,
    private readonly emit: (event: ProxyEvent) => void,
    private readonly scheduler: SchedulerLike = asyncScheduler,
  ) {
    this.initialPending = server.minWorkers;
    this.initialAttempts = new Promise((resolve) => {
      this.settleInitial = resolve;
      if (this.initialPending === 0) resolve();
    });
  }

  /**
   * Starts the scaling pipeline: min_workers connect now. Resolves once each of them has
   * connected or failed.
   */
  start(): Promise<void> {
    if (this.scaling || this.closed) return this.initialAttempts;
    const { server, scheduler } = this;
    const idle$ = interval(idleSampleMs(server.workerTimeoutMs), scheduler).pipe(
      map((): PoolSignal => ({
        type: 'idle',
        at: scheduler.now(),
        workers: this.idle.map((worker) => ({ worker: worker.id, idleSince: worker.idleSince })),
      })),
    );
    const limits = {
      minWorkers: server.minWorkers,
      maxWorkers: server.maxWorkers,
      idleTimeoutMs: server.workerTimeoutMs,
    };
    this.scaling = poolScaling(merge(this.signals, idle$), limits, scheduler).subscribe((command) =>
      this.execute(command),
    );
    return this.initialAttempts;
  }

  get name(): string {
    return this.server.name;
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

  acquire(request: WorkerRequest): AcquireResult {
    const worker = this.idle.pop();
    if (worker) {
      request.runOn(worker);
      return 'running';
    }
    if (this.closed || this.queue.length >= this.server.bufferSize) return 'full';
    const timer = setTimeout(() => this.expire(request), this.pool.queueTimeoutMs);
    this.queue.push({ request, timer });
    this.queueChanged();
    this.signals.next({
      type: 'pressure',
      waiting: this.queue.length,
      connecting: this.connecting,
    });
    return 'queued';
  }

  /** Takes a request out of the queue (its client went away). */
  cancel(request: WorkerRequest): void {
    const index = this.queue.findIndex((waiting) => waiting.request === request);
    if (index < 0) return;
    const [waiting] = this.queue.splice(index, 1);
    if (waiting) clearTimeout(waiting.timer);
    this.queueChanged();
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
    if (!connected && this.workers.size === 0) {
      this.failQueue(error ?? upstreamError('ECONNREFUSED', 'connection failed'));
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

  private handOut(worker: UpstreamWorker): void {
    const next = this.queue.shift();
    if (next) {
      clearTimeout(next.timer);
      this.queueChanged();
      next.request.runOn(worker);
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

  private expire(request: WorkerRequest): void {
    this.cancel(request);
    request.failBeforeDispatch(upstreamError('QUEUE_TIMEOUT', 'waited queue_timeout for a worker'));
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
