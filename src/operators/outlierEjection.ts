import {
  asyncScheduler,
  concat,
  defer,
  EMPTY,
  map,
  mergeMap,
  of,
  timer,
  type Observable,
  type OperatorFunction,
  type SchedulerLike,
} from 'rxjs';

/** The result of one request to a backend, as seen by the proxy. */
export interface TrafficOutcome {
  readonly backend: string;
  readonly ok: boolean;
}

export interface OutlierOptions {
  /** Every backend of the pool, for the percentage cap. */
  readonly backends: readonly string[];
  /** Consecutive failures that eject (>= 1). */
  readonly maxFails: number;
  /** The first ejection's duration (> 0); also the period that forgets one earlier ejection. */
  readonly ejectTimeMs: number;
  /** Cap on an ejection's duration, default 300 000. */
  readonly maxEjectTimeMs?: number;
  /** At most this share of the pool (0-100, rounded down) is ejected at the same time. */
  readonly maxEjectionPercent: number;
}

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
  ejected: boolean;
  /** Earlier ejections remembered at `returnedAt`; each full ejectTimeMs since forgets one. */
  remembered: number;
  returnedAt: number;
}

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
 * ignored.
 *
 * Completes when the source has completed and no ejection is pending, so every ejection is
 * matched by its return. Unsubscribing tears pending returns down; a source error passes
 * through at once.
 */
export function outlierEjection(
  options: OutlierOptions,
  scheduler: SchedulerLike = asyncScheduler,
): OperatorFunction<TrafficOutcome, EjectionChange> {
  const { maxFails, ejectTimeMs } = options;
  const maxEjectTimeMs = options.maxEjectTimeMs ?? DEFAULT_MAX_EJECT_TIME_MS;

  return (outcomes$) =>
    defer(() => {
      const pool = new Map<string, BackendHealth>(
        options.backends.map((backend) => [
          backend,
          { failures: 0, ejected: false, remembered: 0, returnedAt: 0 },
        ]),
      );
      const maxEjected = Math.floor((pool.size * options.maxEjectionPercent) / 100);
      let ejectedCount = 0;

      const ejectionMs = (health: BackendHealth): number => {
        const forgotten = Math.floor((scheduler.now() - health.returnedAt) / ejectTimeMs);
        const k = Math.max(0, health.remembered - forgotten);
        const forMs = Math.min(ejectTimeMs * 2 ** k, maxEjectTimeMs);
        health.remembered = forMs < maxEjectTimeMs ? k + 1 : k;
        return forMs;
      };

      const restore = (backend: string, health: BackendHealth): EjectionChange => {
        health.ejected = false;
        health.failures = 0;
        health.returnedAt = scheduler.now();
        ejectedCount--;
        return { backend, ejected: false };
      };

      const step = ({ backend, ok }: TrafficOutcome): Observable<EjectionChange> => {
        const health = pool.get(backend);
        if (health === undefined || health.ejected) return EMPTY;
        if (ok) {
          health.failures = 0;
          return EMPTY;
        }
        health.failures++;
        if (health.failures < maxFails || ejectedCount >= maxEjected) return EMPTY;
        const forMs = ejectionMs(health);
        health.ejected = true;
        ejectedCount++;
        return concat(
          of<EjectionChange>({ backend, ejected: true, forMs, failures: health.failures }),
          timer(forMs, scheduler).pipe(map(() => restore(backend, health))),
        );
      };

      return outcomes$.pipe(mergeMap(step));
    });
}
