import {
  Observable,
  Subject,
  Subscription,
  asyncScheduler,
  concat,
  EMPTY,
  filter,
  mergeMap,
  of,
  takeUntil,
  timer,
  type OperatorFunction,
  type SchedulerLike,
} from '../rx';
import { backendLists, followList, type BackendList } from '../health/backendList';

/** The result of one request (or connection attempt) to a backend, as seen by the proxy. */
export interface TrafficOutcome {
  readonly backend: string;
  readonly ok: boolean;
  /**
   * What failed: the backend could not be reached (refused, reset, connect timeout), or it was
   * reached and answered badly (5xx, timeout). Defaults to `response`.
   */
  readonly failure?: 'connection' | 'response';
}

/** One active health probe's result: it can end an ejection for connection failures early. */
export interface ProbeOutcome {
  readonly backend: string;
  readonly probeUp: boolean;
}

export type EjectionInput = TrafficOutcome | ProbeOutcome;

export interface OutlierSettings {
  /** Consecutive failures that eject (>= 1). */
  readonly maxFails: number;
  /** The first ejection's duration (> 0); also the period that forgets one earlier ejection. */
  readonly ejectTimeMs: number;
  /** Cap on an ejection's duration, default 300 000. */
  readonly maxEjectTimeMs?: number;
  /** At most this share of the pool (0-100, rounded down) is ejected at the same time. */
  readonly maxEjectionPercent: number;
  /**
   * With active health checks: this many passing probes in a row return a backend ejected for
   * connection failures only, before its ejection time is up (Envoy's
   * successful_active_health_check_uneject_host). Undefined: only the timer returns backends.
   */
  readonly unejectAfterProbes?: number;
}

/**
 * The settings, and the pool's backends, fixed (`backends`) or changing (`backends$`): outcomes
 * count only for listed backends, and the percentage cap follows the current list.
 */
export type OutlierOptions = OutlierSettings & BackendList<string>;

export type EjectionChange =
  | {
      readonly backend: string;
      readonly ejected: true;
      readonly forMs: number;
      readonly failures: number;
    }
  | { readonly backend: string; readonly ejected: false };

const DEFAULT_MAX_EJECT_TIME_MS = 300_000;

interface BackendHealth {
  /** Consecutive failures since the last success or return. */
  failures: number;
  /** Whether one of those failures was a bad response rather than a failed connection. */
  responseFailed: boolean;
  ejected: boolean;
  /** Ejected for connection failures only: passing probes may end the ejection. */
  probesMayReturn: boolean;
  /** Passing probes in a row during the ejection. */
  probesPassed: number;
  /** Counts ejections, so a return timer of an ejection already ended does nothing. */
  ejection: number;
  /** Earlier ejections remembered at `returnedAt`; each full ejectTimeMs since forgets one. */
  remembered: number;
  returnedAt: number;
}

const freshHealth = (): BackendHealth => ({
  failures: 0,
  responseFailed: false,
  ejected: false,
  probesMayReturn: false,
  probesPassed: 0,
  ejection: 0,
  remembered: 0,
  returnedAt: 0,
});

/**
 * Passive health checking (nginx max_fails, Envoy outlier detection): request outcomes in,
 * ejections and returns out.
 *
 * A backend is ejected when it fails `maxFails` times in a row, unless `maxEjectionPercent`
 * of the pool is already ejected; it then keeps its count and is ejected on its next failure
 * once there is room. An ejection lasts `ejectTimeMs × 2^k`, capped at `maxEjectTimeMs`, where
 * k counts the backend's earlier ejections still remembered: k stops growing once the cap is
 * reached, and each full `ejectTimeMs` after a return without a new ejection forgets one. The
 * return is emitted from a timer on `scheduler` and restarts the failure count from zero.
 * Outcomes for an ejected backend (requests still in flight) and for unknown backends are
 * ignored. With `unejectAfterProbes`, a backend ejected for connection failures only returns as
 * soon as that many active probes in a row pass; one ejected for bad responses serves its time
 * (its health path can pass while real traffic fails).
 *
 * Over a changing list, a removed backend's state is dropped and its pending return cancelled
 * (it emits nothing more; the cap no longer counts it), and an added backend starts fresh.
 *
 * Completes when the source has completed and no ejection is pending, so every ejection is
 * matched by its return; the list stream does not hold completion up. Unsubscribing tears
 * pending returns and the list subscription down; an error of either source passes through at
 * once.
 */
export function outlierEjection(
  options: OutlierOptions,
  scheduler: SchedulerLike = asyncScheduler,
): OperatorFunction<EjectionInput, EjectionChange> {
  const { maxFails, ejectTimeMs } = options;
  const maxEjectTimeMs = options.maxEjectTimeMs ?? DEFAULT_MAX_EJECT_TIME_MS;

  const lists$ = backendLists(options);

  return (outcomes$) =>
    new Observable<EjectionChange>((subscriber) => {
      const pool = new Map<string, BackendHealth>();
      let maxEjected = 0;
      let ejectedCount = 0;
      const removed = new Subject<string>();

      const follow = (list: readonly string[]): void => {
        followList(pool, list, freshHealth, (backend, health) => {
          if (health.ejected) ejectedCount--;
          removed.next(backend);
        });
        maxEjected = Math.floor((pool.size * options.maxEjectionPercent) / 100);
      };

      const ejectionMs = (health: BackendHealth): number => {
        const forgotten = Math.floor((scheduler.now() - health.returnedAt) / ejectTimeMs);
        const k = Math.max(0, health.remembered - forgotten);
        const forMs = Math.min(ejectTimeMs * 2 ** k, maxEjectTimeMs);
        health.remembered = forMs < maxEjectTimeMs ? k + 1 : k;
        return forMs;
      };

      const restore = (backend: string, health: BackendHealth): EjectionChange => {
        health.ejected = false;
        health.ejection++;
        health.failures = 0;
        health.responseFailed = false;
        health.returnedAt = scheduler.now();
        ejectedCount--;
        return { backend, ejected: false };
      };

      const onProbe = (health: BackendHealth, backend: string, up: boolean) => {
        if (!health.ejected || !health.probesMayReturn) return EMPTY;
        health.probesPassed = up ? health.probesPassed + 1 : 0;
        if (health.probesPassed < (options.unejectAfterProbes ?? Infinity)) return EMPTY;
        return of(restore(backend, health));
      };

      const step = (input: EjectionInput): Observable<EjectionChange> => {
        const { backend } = input;
        const health = pool.get(backend);
        if (health === undefined) return EMPTY;
        if ('probeUp' in input) return onProbe(health, backend, input.probeUp);
        if (health.ejected) return EMPTY;
        if (input.ok) {
          health.failures = 0;
          health.responseFailed = false;
          return EMPTY;
        }
        health.failures++;
        if (input.failure !== 'connection') health.responseFailed = true;
        if (health.failures < maxFails || ejectedCount >= maxEjected) return EMPTY;
        const forMs = ejectionMs(health);
        health.ejected = true;
        health.probesMayReturn = !health.responseFailed;
        health.probesPassed = 0;
        const ejection = ++health.ejection;
        ejectedCount++;
        return concat(
          of<EjectionChange>({ backend, ejected: true, forMs, failures: health.failures }),
          timer(forMs, scheduler).pipe(
            mergeMap(() => (health.ejection === ejection ? of(restore(backend, health)) : EMPTY)),
            takeUntil(removed.pipe(filter((name) => name === backend))),
          ),
        );
      };

      const subscription = new Subscription();
      subscription.add(
        lists$.subscribe({ next: follow, error: (error: unknown) => subscriber.error(error) }),
      );
      subscription.add(outcomes$.pipe(mergeMap(step)).subscribe(subscriber));
      return subscription;
    });
}
