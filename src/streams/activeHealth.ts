import {
  asyncScheduler,
  catchError,
  defaultIfEmpty,
  exhaustMap,
  merge,
  of,
  take,
  timeout,
  timer,
  type Observable,
  type SchedulerLike,
} from 'rxjs';
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
 */
export function activeHealth(
  backends: readonly string[],
  probe: Probe,
  options: ActiveHealthOptions,
  scheduler: SchedulerLike = asyncScheduler,
): Observable<CheckedProbe> {
  const checks = backends.map((backend) =>
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
      riseFall<ProbeResult>(options.rise, options.fall),
    ),
  );
  return merge(...checks);
}
