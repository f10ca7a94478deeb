import {
  EMPTY,
  asyncScheduler,
  defer,
  merge,
  mergeMap,
  of,
  timer,
  type Observable,
  type ObservableInput,
  type SchedulerLike,
} from '../rx';
import type { ServerConfig } from '../config';

export interface PoolLimits {
  readonly minWorkers: number;
  readonly maxWorkers: number;
  /** A worker idle this long retires, unless the pool is at minWorkers. */
  readonly idleTimeoutMs: number;
}

/** A server's worker limits, as its configuration gives them. */
export function limitsOf(server: ServerConfig): PoolLimits {
  return {
    minWorkers: server.minWorkers,
    maxWorkers: server.maxWorkers,
    idleTimeoutMs: server.workerTimeoutMs,
  };
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
  /** Something outside says the backend accepts connections again (a health check passed). */
  | { readonly type: 'reachable' }
  /** New limits from a reload: applied from now on; workers above max retire as they idle. */
  | { readonly type: 'limits'; readonly limits: PoolLimits }
  /** A periodic sample of the idle workers, taken at `at` on the scheduler's clock. */
  | { readonly type: 'idle'; readonly at: number; readonly workers: readonly IdleWorker[] };

export type SpawnReason = 'min' | 'pressure' | 'replace' | 'retry';

export type PoolCommand =
  | { readonly type: 'spawn'; readonly worker: number; readonly reason: SpawnReason }
  | { readonly type: 'retire'; readonly worker: number };

const START = { type: 'start' } as const;
const FIRST_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 5000;
/** Each backoff is drawn from ±20 % around its nominal value, so proxies do not retry in step. */
const JITTER = 0.2;

/**
 * Delay before the next connection attempt after `failures` attempts failed in a row: 100 ms
 * doubling to 5 s, times a jitter factor in [0.8, 1.2) drawn from `random`.
 */
export function reconnectBackoffMs(failures: number, random: () => number = Math.random): number {
  const nominal = Math.min(FIRST_BACKOFF_MS * 2 ** Math.max(0, failures - 1), MAX_BACKOFF_MS);
  return Math.round(nominal * (1 - JITTER + 2 * JITTER * random()));
}

export interface PoolScalingOptions {
  /** Source of the backoff jitter; tests pass a fixed one. */
  readonly random?: () => number;
}

/**
 * The pool-scaling pipeline of one backend: signals in, spawn and retire commands out. The
 * number of live workers (spawned and not yet lost or retired) never leaves
 * [minWorkers, maxWorkers], except below the floor while the backend refuses connections.
 *
 * While connection attempts fail, the pool makes one attempt at a time, each after a backoff
 * (100 ms doubling to 5 s, ±20 %), whatever the pressure: a dead backend gets at most 10
 * attempts a second. The first attempt that connects ends the backoff and restores the floor.
 */
export function poolScaling(
  signals$: Observable<PoolSignal>,
  initialLimits: PoolLimits,
  scheduler: SchedulerLike = asyncScheduler,
  options: PoolScalingOptions = {},
): Observable<PoolCommand> {
  const random = options.random ?? Math.random;
  return defer(() => {
    const live = new Set<number>();
    /** Spawned workers whose connection is not established yet. */
    const connecting = new Set<number>();
    let nextId = 1;
    let failures = 0;
    let retryScheduled = false;
    let limits = initialLimits;

    const spawn = (count: number, reason: SpawnReason): PoolCommand[] => {
      const commands: PoolCommand[] = [];
      for (let i = 0; i < count && live.size < limits.maxWorkers; i++) {
        const worker = nextId++;
        live.add(worker);
        connecting.add(worker);
        commands.push({ type: 'spawn', worker, reason });
      }
      return commands;
    };

    const restoreFloor = (): PoolCommand[] =>
      failures === 0 && live.size < limits.minWorkers
        ? spawn(limits.minWorkers - live.size, 'replace')
        : [];

    const retireIdle = (at: number, workers: readonly IdleWorker[]): PoolCommand[] => {
      const commands: PoolCommand[] = [];
      const idleLive = workers
        .filter((idle) => live.has(idle.worker))
        .sort((a, b) => a.idleSince - b.idleSince);
      for (const idle of idleLive) {
        const overMax = live.size > limits.maxWorkers;
        const expired = at - idle.idleSince >= limits.idleTimeoutMs;
        if (live.size <= limits.minWorkers || !(overMax || expired)) continue;
        live.delete(idle.worker);
        connecting.delete(idle.worker);
        commands.push({ type: 'retire', worker: idle.worker });
      }
      return commands;
    };

    /** One attempt after the backoff, unless one is already in flight or a worker connected. */
    const retryLater = (): Observable<PoolCommand> => {
      if (retryScheduled) return EMPTY;
      retryScheduled = true;
      return timer(reconnectBackoffMs(failures, random), scheduler).pipe(
        mergeMap(() => {
          retryScheduled = false;
          if (failures === 0) return restoreFloor();
          return connecting.size > 0 ? [] : spawn(1, 'retry');
        }),
      );
    };

    const step = (signal: PoolSignal | typeof START): ObservableInput<PoolCommand> => {
      switch (signal.type) {
        case 'start':
          return spawn(limits.minWorkers, 'min');
        case 'pressure':
          return failures > 0 ? [] : spawn(signal.waiting - signal.connecting, 'pressure');
        case 'ready':
          connecting.delete(signal.worker);
          failures = 0;
          return restoreFloor();
        case 'lost':
          connecting.delete(signal.worker);
          if (!live.delete(signal.worker)) return [];
          if (signal.connected) return restoreFloor();
          failures++;
          return retryLater();
        case 'reachable':
          return failures > 0 && connecting.size === 0 ? spawn(1, 'retry') : [];
        case 'idle':
          return [...retireIdle(signal.at, signal.workers), ...restoreFloor()];
        case 'limits':
          limits = signal.limits;
          return restoreFloor();
      }
    };

    return merge(of(START), signals$).pipe(mergeMap(step));
  });
}
