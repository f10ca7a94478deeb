import {
  asyncScheduler,
  distinctUntilChanged,
  filter,
  interval,
  map,
  startWith,
  switchMap,
  type Observable,
  type SchedulerLike,
} from '../rx';
import type { PoolSignal } from './poolScaling';

/** How often idle workers are sampled for retirement: a quarter of worker_timeout, 50 ms to 1 s. */
export function idleSampleMs(workerTimeoutMs: number): number {
  return Math.min(1000, Math.max(50, Math.floor(workerTimeoutMs / 4)));
}

/**
 * Idle samples of one backend's workers, taken by `sample` every idleSampleMs(worker_timeout).
 * The period follows the `limits` signals of reloads; a changed period starts counting afresh.
 */
export function idleSamples(
  signals$: Observable<PoolSignal>,
  workerTimeoutMs: number,
  sample: (at: number) => PoolSignal,
  scheduler: SchedulerLike = asyncScheduler,
): Observable<PoolSignal> {
  return signals$.pipe(
    filter((signal) => signal.type === 'limits'),
    map((signal) => idleSampleMs(signal.limits.idleTimeoutMs)),
    startWith(idleSampleMs(workerTimeoutMs)),
    distinctUntilChanged(),
    switchMap((periodMs) => interval(periodMs, scheduler)),
    map(() => sample(scheduler.now())),
  );
}
