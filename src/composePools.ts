import { asyncScheduler, merge, type Observable, type SchedulerLike } from './rx';
import type { WorkerPool } from './adapters/workerPool';
import { idleSamples } from './streams/idleSamples';
import { limitsOf, poolScaling, type PoolCommand } from './streams/poolScaling';

/**
 * One backend's pool-scaling pipeline: its signals and idle samples in, spawn and retire
 * commands out. It lives as long as the backend; the worker pool carries out its commands.
 */
export function workerPoolScaling(
  backend: WorkerPool,
  scheduler: SchedulerLike = asyncScheduler,
  random?: () => number,
): Observable<PoolCommand> {
  const idle$ = idleSamples(
    backend.signals$,
    backend.server.workerTimeoutMs,
    (at) => backend.idleSample(at),
    scheduler,
  );
  const options = random ? { random } : {};
  return poolScaling(merge(backend.signals$, idle$), limitsOf(backend.server), scheduler, options);
}
