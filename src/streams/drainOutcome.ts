import {
  asyncScheduler,
  defer,
  filter,
  map,
  merge,
  take,
  tap,
  timer,
  type Observable,
  type SchedulerLike,
} from '../rx';

export interface DrainOutcome {
  readonly drained: boolean;
  /** Requests still in flight when the drain ended. */
  readonly remaining: number;
}

/**
 * Waits for the in-flight count to reach zero, for at most `timeoutMs`. Emits one outcome and
 * completes: drained, or timed out with the number of requests left.
 */
export function drainOutcome(
  inFlight$: Observable<number>,
  timeoutMs: number,
  scheduler: SchedulerLike = asyncScheduler,
): Observable<DrainOutcome> {
  return defer(() => {
    let remaining = 0;
    const drained$ = inFlight$.pipe(
      tap((count) => (remaining = count)),
      filter((count) => count === 0),
      map((): DrainOutcome => ({ drained: true, remaining: 0 })),
    );
    const expired$ = timer(timeoutMs, scheduler).pipe(
      map((): DrainOutcome => ({ drained: false, remaining })),
    );
    return merge(drained$, expired$).pipe(take(1));
  });
}
