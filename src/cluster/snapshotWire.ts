import type { DownCause, HealthySnapshot } from '../streams/healthySet';

/** A healthy-set snapshot as it crosses the cluster's IPC channel (JSON has no Map). */
export interface WireSnapshot {
  readonly backends: readonly string[];
  readonly healthy: readonly string[];
  readonly weights: readonly (readonly [string, number])[];
  readonly down: readonly (readonly [string, string])[];
  readonly causes?: readonly (readonly [string, DownCause])[];
}

export function toWire(snapshot: HealthySnapshot): WireSnapshot {
  return {
    backends: snapshot.backends,
    healthy: snapshot.healthy,
    weights: [...snapshot.weights],
    down: [...snapshot.down],
    ...(snapshot.causes ? { causes: [...snapshot.causes] } : {}),
  };
}

export function fromWire(wire: WireSnapshot): HealthySnapshot {
  return {
    backends: wire.backends,
    healthy: wire.healthy,
    weights: new Map(wire.weights),
    down: new Map(wire.down),
    ...(wire.causes ? { causes: new Map(wire.causes) } : {}),
  };
}
