import {
  EMPTY,
  asyncScheduler,
  defer,
  distinctUntilChanged,
  filter,
  interval,
  map,
  merge,
  shareReplay,
  tap,
  type Observable,
  type SchedulerLike,
} from '../rx';
import { backendLists, followList, type BackendList } from '../health/backendList';
import {
  freshState,
  inRotation,
  observeEjection,
  observeProbe,
  type BackendState,
} from '../health/backendState';
import type { EjectionChange } from '../operators/outlierEjection';
import type { OutOfRotationCause } from '../events';
import type { CheckedProbe } from './activeHealth';

export { AWAITING_PROBES, MISSED_REPORTS_RESET } from '../health/backendState';

export interface BackendInfo {
  readonly name: string;
  readonly weight: number;
}

/** Which backends are in rotation and with what weight; immutable, compared by value. */
export interface HealthySnapshot {
  /** Every listed backend, in server order. */
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

export interface HealthSignals {
  /** Active probe results after rise/fall (EMPTY without health checks). */
  readonly probes$: Observable<CheckedProbe>;
  /** Passive ejections and returns (EMPTY without passive checks). */
  readonly ejections$: Observable<EjectionChange>;
}

/** The signals, and the backends as a fixed list (`backends`) or a changing one (`backends$`). */
export type HealthySetSources = HealthSignals & BackendList<BackendInfo>;

export interface HealthySetOptions {
  /** Scale weights by the headroom backends report in health responses. */
  readonly dynamicWeights: boolean;
  /** A backend entering rotation ramps from 10 % to full weight over this time (0 = off). */
  readonly slowStartMs: number;
  /**
   * Active health checks run: a backend added after the first list waits out of rotation until
   * its probes say healthy, instead of entering at once. Default false.
   */
  readonly activeChecks?: boolean;
}

/** No weight falls below this share of the static weight. */
export const MIN_WEIGHT_SHARE = 0.1;

const EJECTED: DownCause = { cause: 'ejection' };
const FAILED_CHECKS: DownCause = { cause: 'health-check' };

/** Weights in thousandths: finer steps change no pick and would only churn snapshots. */
export function roundWeight(weight: number): number {
  return Math.round(weight * 1000) / 1000;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a === b || (a.length === b.length && a.every((name, i) => name === b[i]));
}

function sameSnapshot(a: HealthySnapshot, b: HealthySnapshot): boolean {
  if (a.healthy.length !== b.healthy.length || a.down.size !== b.down.size) return false;
  if (!sameList(a.backends, b.backends)) return false;
  for (let i = 0; i < a.healthy.length; i++) {
    const name = a.healthy[i] ?? '';
    if (name !== b.healthy[i] || a.weights.get(name) !== b.weights.get(name)) return false;
  }
  for (const [name, reason] of a.down) if (b.down.get(name) !== reason) return false;
  return true;
}

/**
 * The healthy-set stream: active probe results and passive ejections scanned into an immutable
 * snapshot of the backends in rotation and their effective weights, emitted when it changes and
 * shared with replay 1. The data plane keeps the latest snapshot in a plain field.
 *
 * Over a changing list (`backends$`), nothing is emitted before the first list, in which every
 * backend starts in rotation. A later list keeps the state of the backends that stay (health,
 * ejection, headroom, slow-start ramp) and applies their new static weights; removed backends
 * leave the snapshot and their probes and ejections are ignored; added backends start fresh, in
 * rotation at once (ramping with slow start), or with `activeChecks` out of rotation until
 * their probes say healthy. Probes and ejections of unlisted backends are ignored.
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
    const states = new Map<string, BackendState>();
    let listed = false;
    let names: readonly string[] = [];

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
      for (const name of names) {
        const state = states.get(name);
        if (!state) continue;
        if (inRotation(state)) {
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
      return { backends: names, healthy, weights, down, causes };
    };

    /** Starts the slow-start ramp of a backend that has just entered rotation. */
    const entered = (state: BackendState, wasIn: boolean): void => {
      if (!wasIn && inRotation(state) && options.slowStartMs > 0) state.enteredAt = scheduler.now();
    };

    const follow = (list: readonly BackendInfo[]): void => {
      const added = listed;
      const waits = added && options.activeChecks === true;
      followList(states, list, (info) => {
        const state = freshState(info, waits);
        if (added) entered(state, false);
        return state;
      });
      for (const info of list) {
        const state = states.get(info.name);
        if (state) state.info = info;
      }
      listed = true;
      names = list.map((info) => info.name);
    };

    const observe = (change: CheckedProbe | EjectionChange): void => {
      const state = states.get(change.backend);
      if (!state) return;
      const wasIn = inRotation(state);
      if ('ejected' in change) observeEjection(state, change, scheduler.now());
      else observeProbe(state, change);
      entered(state, wasIn);
    };

    return merge(
      backendLists(sources).pipe(tap(follow)),
      merge(sources.probes$, sources.ejections$).pipe(tap(observe)),
      ramp$,
    ).pipe(
      filter(() => listed),
      map(snapshot),
    );
  }).pipe(distinctUntilChanged(sameSnapshot), shareReplay({ bufferSize: 1, refCount: true }));
}
