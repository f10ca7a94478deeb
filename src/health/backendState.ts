import type { EjectionChange } from '../operators/outlierEjection';
import type { CheckedProbe } from '../streams/activeHealth';
import type { BackendInfo } from '../streams/healthySet';

/** Why a backend added while active checks run is out of rotation before its probes say. */
export const AWAITING_PROBES = 'health check: waiting for the first probes';

/** Reports missing from this many probes in a row restore the static weight. */
export const MISSED_REPORTS_RESET = 3;

/** What the healthy-set stream knows of one backend; mutable, owned by one subscription. */
export interface BackendState {
  info: BackendInfo;
  activeUp: boolean;
  activeReason: string;
  ejectedReason: string | undefined;
  ejectedUntil: number | undefined;
  /** Smoothed 1 - max(cpu, memory), undefined while nothing is reported. */
  headroom: number | undefined;
  missedReports: number;
  enteredAt: number | undefined;
}

/** A backend's state as it enters: up, or out until its first probes say healthy. */
export function freshState(info: BackendInfo, awaitingProbes: boolean): BackendState {
  return {
    info,
    activeUp: !awaitingProbes,
    activeReason: awaitingProbes ? AWAITING_PROBES : '',
    ejectedReason: undefined,
    ejectedUntil: undefined,
    headroom: undefined,
    missedReports: 0,
    enteredAt: undefined,
  };
}

export function inRotation(state: BackendState): boolean {
  return state.activeUp && state.ejectedReason === undefined;
}

export function observeProbe(state: BackendState, probe: CheckedProbe): void {
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

export function observeEjection(state: BackendState, change: EjectionChange, now: number): void {
  state.ejectedReason = change.ejected
    ? `ejected after ${change.failures} failures for ${change.forMs} ms`
    : undefined;
  state.ejectedUntil = change.ejected ? now + change.forMs : undefined;
}
