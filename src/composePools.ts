import { asyncScheduler, interval, map, merge, type Observable, type SchedulerLike } from 'rxjs';
import type { WorkerPool } from './adapters/workerPool';
import { limitsOf, poolScaling, type PoolCommand } from './streams/poolScaling';

/** How often idle workers are sampled for retirement: a quarter of worker_timeout, 50 ms to 1 s. */
export function idleSampleMs(workerTimeoutMs: number): number {
  return Math.min(1000, Math.max(50, Math.floor(workerTimeoutMs / 4)));
}

/**
 * One backend's pool-scaling pipeline: its signals and idle samples in, spawn and retire
 * commands out. It lives as long as the backend; the worker pool carries out its commands.
 */
export function workerPoolScaling(
  backend: WorkerPool,
  scheduler: SchedulerLike = asyncScheduler,
  random?: () => number,
): Observable<PoolCommand> {
  const idle$ = interval(idleSampleMs(backend.server.workerTimeoutMs), scheduler).pipe(
    map(() => backend.idleSample(scheduler.now())),
  );
  const options = random ? { random } : {};
  return poolScaling(merge(backend.signals$, idle$), limitsOf(backend.server), scheduler, options);
}
