import {
  EMPTY,
  asyncScheduler,
  defer,
  distinctUntilChanged,
  interval,
  map,
  merge,
  shareReplay,
  startWith,
  type Observable,
  type SchedulerLike,
} from 'rxjs';
import type { EjectionChange } from '../operators/outlierEjection';
import type { OutOfRotationCause } from '../events';
import type { CheckedProbe } from './activeHealth';

export interface BackendInfo {
  readonly name: string;
  readonly weight: number;
}

/** Which backends are in rotation and with what weight; immutable, compared by value. */
export interface HealthySnapshot {
  /** Every configured backend, in server order. */
  readonly backends: readonly string[];
  /** Backends in rotation, in server order. */
  readonly healthy: readonly string[];
  /** Effective weight of each backend in rotation. */
  readonly weights: ReadonlyMap<string, number>;
  /** Why each backend out of rotation is out. */
  readonly down: ReadonlyMap<string, string>;
  /**
   * What took each backend in `down` out, and for an ejection when it returns. Snapshots a
   * healthySet hook made may lack it or some entries: such backends count as out by the hook.
   */
  readonly causes?: ReadonlyMap<string, DownCause>;
}

export interface DownCause {
  readonly cause: OutOfRotationCause;
  /** For an ejection: when it ends (the scheduler's clock, ms since the epoch in production). */
  readonly returnsAt?: number;
}

export interface HealthySetSources {
  readonly backends: readonly BackendInfo[];
  /** Active probe results after rise/fall (EMPTY without health checks). */
  readonly probes$: Observable<CheckedProbe>;
  /** Passive ejections and returns (EMPTY without passive checks). */
  readonly ejections$: Observable<EjectionChange>;
}

export interface HealthySetOptions {
  /** Scale weights by the headroom backends report in health responses. */
  readonly dynamicWeights: boolean;
  /** A backend entering rotation ramps from 10 % to full weight over this time (0 = off). */
  readonly slowStartMs: number;
}

/** Reports missing from this many probes in a row restore the static weight. */
export const MISSED_REPORTS_RESET = 3;
/** No weight falls below this share of the static weight. */
export const MIN_WEIGHT_SHARE = 0.1;

interface BackendState {
  readonly info: BackendInfo;
  activeUp: boolean;
  activeReason: string;
  ejectedReason: string | undefined;
  ejectedUntil: number | undefined;
  /** Smoothed 1 - max(cpu, memory), undefined while nothing is reported. */
  headroom: number | undefined;
  missedReports: number;
  enteredAt: number | undefined;
}

const EJECTED: DownCause = { cause: 'ejection' };
const FAILED_CHECKS: DownCause = { cause: 'health-check' };

/** Weights in thousandths: finer steps change no pick and would only churn snapshots. */
export function roundWeight(weight: number): number {
  return Math.round(weight * 1000) / 1000;
}

function sameSnapshot(a: HealthySnapshot, b: HealthySnapshot): boolean {
  if (a.healthy.length !== b.healthy.length || a.down.size !== b.down.size) return false;
  for (let i = 0; i < a.healthy.length; i++) {
    const name = a.healthy[i] ?? '';
    if (name !== b.healthy[i] || a.weights.get(name) !== b.weights.get(name)) return false;
  }
  for (const [name, reason] of a.down) if (b.down.get(name) !== reason) return false;
  return true;
}

function observeProbe(state: BackendState, probe: CheckedProbe): void {
  state.activeUp = probe.healthy;
  if (!probe.up) state.activeReason = `health check: ${probe.reason ?? 'failed'}`;
  if (probe.load) {
    const headroom = Math.min(
      1,
      Math.max(0, 1 - Math.max(probe.load.cpu ?? 0, probe.load.memory ?? 0)),
    );
    state.headroom = state.headroom === undefined ? headroom : (state.headroom + headroom) / 2;
    state.missedReports = 0;
  } else if (++state.missedReports >= MISSED_REPORTS_RESET) {
    state.headroom = undefined;
  }
}

/**
 * The healthy-set stream: active probe results and passive ejections scanned into an immutable
 * snapshot of the backends in rotation and their effective weights, emitted when it changes and
 * shared with replay 1. The data plane keeps the latest snapshot in a plain field.
 */
export function healthySet(
  sources: HealthySetSources,
  options: HealthySetOptions,
  scheduler: SchedulerLike = asyncScheduler,
): Observable<HealthySnapshot> {
  const ramp$ =
    options.slowStartMs > 0
      ? interval(Math.max(1, Math.floor(options.slowStartMs / 20)), scheduler)
      : EMPTY;
  return defer(() => {
    const states = new Map<string, BackendState>(
      sources.backends.map((info) => [
        info.name,
        {
          info,
          activeUp: true,
          activeReason: '',
          ejectedReason: undefined,
          ejectedUntil: undefined,
          headroom: undefined,
          missedReports: 0,
          enteredAt: undefined,
        },
      ]),
    );

    const weightOf = (state: BackendState, now: number): number => {
      let share = options.dynamicWeights ? (state.headroom ?? 1) : 1;
      if (state.enteredAt !== undefined) {
        const ramped = (now - state.enteredAt) / options.slowStartMs;
        if (ramped >= 1) state.enteredAt = undefined;
        else share *= MIN_WEIGHT_SHARE + (1 - MIN_WEIGHT_SHARE) * ramped;
      }
      return roundWeight(state.info.weight * Math.max(MIN_WEIGHT_SHARE, share));
    };

    const snapshot = (): HealthySnapshot => {
      const now = scheduler.now();
      const healthy: string[] = [];
      const weights = new Map<string, number>();
      const down = new Map<string, string>();
      const causes = new Map<string, DownCause>();
      for (const [name, state] of states) {
        if (state.activeUp && state.ejectedReason === undefined) {
          healthy.push(name);
          weights.set(name, weightOf(state, now));
        } else if (state.activeUp) {
          down.set(name, state.ejectedReason ?? '');
          const until = state.ejectedUntil;
          causes.set(name, until === undefined ? EJECTED : { cause: 'ejection', returnsAt: until });
        } else {
          down.set(name, state.activeReason);
          causes.set(name, FAILED_CHECKS);
        }
      }
      const backends = sources.backends.map((info) => info.name);
      return { backends, healthy, weights, down, causes };
    };

    const apply = (change: CheckedProbe | EjectionChange | number): HealthySnapshot => {
      if (typeof change !== 'number') {
        const state = states.get(change.backend);
        if (state) {
          const wasIn = state.activeUp && state.ejectedReason === undefined;
          if ('ejected' in change) {
            state.ejectedReason = change.ejected
              ? `ejected after ${change.failures} failures for ${change.forMs} ms`
              : undefined;
            state.ejectedUntil = change.ejected ? scheduler.now() + change.forMs : undefined;
          } else {
            observeProbe(state, change);
          }
          const isIn = state.activeUp && state.ejectedReason === undefined;
          if (!wasIn && isIn && options.slowStartMs > 0) state.enteredAt = scheduler.now();
        }
      }
      return snapshot();
    };

    return merge(sources.probes$, sources.ejections$, ramp$).pipe(
      map(apply),
      startWith(snapshot()),
    );
  }).pipe(distinctUntilChanged(sameSnapshot), shareReplay({ bufferSize: 1, refCount: true }));
}
