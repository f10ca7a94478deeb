import {
  Subject,
  asyncScheduler,
  catchError,
  defaultIfEmpty,
  defer,
  exhaustMap,
  isObservable,
  merge,
  mergeMap,
  of,
  take,
  takeUntil,
  timeout,
  timer,
  type Observable,
  type SchedulerLike,
} from '../rx';
import { followList } from '../health/backendList';
import { probeFailure, type ProbeResult } from '../health/probeResult';
import { riseFall } from '../operators/riseFall';

/** Probes one backend once; the adapter behind it does the I/O. */
export type Probe = (backend: string) => Observable<ProbeResult>;

export interface ActiveHealthOptions {
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly rise: number;
  readonly fall: number;
}

export type CheckedProbe = ProbeResult & { readonly healthy: boolean };

function reasonOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return typeof code === 'string' ? `${code}: ${message}` : message;
}

/**
 * Every backend probed concurrently every `intervalMs`, the first round at once. A probe that
 * fails, errors or outlasts `timeoutMs` is a failed result, not an error; a round still in
 * progress when the next is due is not doubled. Each backend's results pass through rise/fall
 * hysteresis.
 *
 * `backends` is a fixed list or a stream of lists. Each backend has one probe loop, keyed by
 * name, from the list it first appears in until the first list without it: then the loop stops
 * and a probe in flight is cancelled. Loops of backends that stay are untouched by a new list.
 * Backends of the first list start healthy; backends added later start unhealthy, so they turn
 * healthy after `rise` passing probes. Once the stream of lists completes, the last list stays.
 */
export function activeHealth(
  backends: readonly string[] | Observable<readonly string[]>,
  probe: Probe,
  options: ActiveHealthOptions,
  scheduler: SchedulerLike = asyncScheduler,
): Observable<CheckedProbe> {
  const check = (backend: string, initiallyHealthy: boolean) =>
    timer(0, options.intervalMs, scheduler).pipe(
      exhaustMap(() =>
        probe(backend).pipe(
          take(1),
          timeout({
            first: options.timeoutMs,
            with: () =>
              of({
                ...probeFailure(backend, `no answer within ${options.timeoutMs} ms`),
                latencyMs: options.timeoutMs,
              }),
            scheduler,
          }),
          defaultIfEmpty(probeFailure(backend, 'no answer')),
          catchError((error: unknown) => of(probeFailure(backend, reasonOf(error)))),
        ),
      ),
      riseFall<ProbeResult>(options.rise, options.fall, initiallyHealthy),
    );
  const lists$ = isObservable(backends) ? backends : of(backends);
  return defer(() => {
    /** The running loops by backend: next() stops one. */
    const stops = new Map<string, Subject<void>>();
    let first = true;
    return lists$.pipe(
      mergeMap((list) => {
        const started: Observable<CheckedProbe>[] = [];
        followList(
          stops,
          list,
          (backend) => {
            const stop = new Subject<void>();
            started.push(check(backend, first).pipe(takeUntil(stop)));
            return stop;
          },
          (_backend, stop) => stop.next(),
        );
        first = false;
        return merge(...started);
      }),
    );
  });
}
