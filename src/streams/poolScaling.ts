import {
  asyncScheduler,
  defer,
  merge,
  mergeMap,
  of,
  type Observable,
  type SchedulerLike,
} from 'rxjs';

export interface PoolLimits {
  readonly minWorkers: number;
  readonly maxWorkers: number;
  /** A worker idle this long retires, unless the pool is at minWorkers. */
  readonly idleTimeoutMs: number;
}

export interface IdleWorker {
  readonly worker: number;
  readonly idleSince: number;
}

/** What the worker pool reports; counters are sampled, never sent per request. */
export type PoolSignal =
  /** Requests are waiting and no worker is free. */
  | { readonly type: 'pressure'; readonly waiting: number; readonly connecting: number }
  /** A worker's connection is established. */
  | { readonly type: 'ready'; readonly worker: number }
  /** A worker's connection closed or never opened. */
  | { readonly type: 'lost'; readonly worker: number; readonly connected: boolean }
  /** A periodic sample of the idle workers, taken at `at` on the scheduler's clock. */
  | { readonly type: 'idle'; readonly at: number; readonly workers: readonly IdleWorker[] };

export type SpawnReason = 'min' | 'pressure' | 'replace';

export type PoolCommand =
  | { readonly type: 'spawn'; readonly worker: number; readonly reason: SpawnReason }
  | { readonly type: 'retire'; readonly worker: number };

const START = { type: 'start' } as const;
const MAX_BACKOFF_MS = 5000;

/** Delay before replacing a worker after `failures` connection attempts failed in a row. */
export function reconnectBackoffMs(failures: number): number {
  return Math.min(100 * 2 ** Math.max(0, failures - 1), MAX_BACKOFF_MS);
}

/**
 * The pool-scaling pipeline of one backend: signals in, spawn and retire commands out. The
 * number of live workers (spawned and not yet lost or retired) never leaves
 * [minWorkers, maxWorkers], except below the floor while failed connections back off.
 */
export function poolScaling(
  signals$: Observable<PoolSignal>,
  limits: PoolLimits,
  scheduler: SchedulerLike = asyncScheduler,
): Observable<PoolCommand> {
  return defer(() => {
    const live = new Set<number>();
    let nextId = 1;
    let failures = 0;
    let retryAt = 0;

    const spawn = (count: number, reason: SpawnReason): PoolCommand[] => {
      const commands: PoolCommand[] = [];
      for (let i = 0; i < count && live.size < limits.maxWorkers; i++) {
        const worker = nextId++;
        live.add(worker);
        commands.push({ type: 'spawn', worker, reason });
      }
      return commands;
    };

    const restoreFloor = (now: number): PoolCommand[] =>
      live.size < limits.minWorkers && now >= retryAt
        ? spawn(limits.minWorkers - live.size, 'replace')
        : [];

    const retireIdle = (at: number, workers: readonly IdleWorker[]): PoolCommand[] => {
      const commands: PoolCommand[] = [];
      const expired = workers
        .filter((idle) => live.has(idle.worker) && at - idle.idleSince >= limits.idleTimeoutMs)
        .sort((a, b) => a.idleSince - b.idleSince);
      for (const idle of expired) {
        if (live.size <= limits.minWorkers) break;
        live.delete(idle.worker);
        commands.push({ type: 'retire', worker: idle.worker });
      }
      return commands;
    };

    const step = (signal: PoolSignal | typeof START): PoolCommand[] => {
      switch (signal.type) {
        case 'start':
          return spawn(limits.minWorkers, 'min');
        case 'pressure':
          return spawn(signal.waiting - signal.connecting, 'pressure');
        case 'ready':
          failures = 0;
          retryAt = 0;
          return [];
        case 'lost':
          if (!live.delete(signal.worker)) return [];
          if (!signal.connected) {
            failures++;
            retryAt = scheduler.now() + reconnectBackoffMs(failures);
          }
          return restoreFloor(scheduler.now());
        case 'idle':
          return [...retireIdle(signal.at, signal.workers), ...restoreFloor(signal.at)];
      }
    };

    return merge(of(START), signals$).pipe(mergeMap(step));
  });
}
