import type { HealthySnapshot } from '../streams/healthySet';

export interface HealthTransition {
  readonly backend: string;
  readonly healthy: boolean;
  /** Why it left rotation. */
  readonly reason?: string;
}

/** The backends that entered or left rotation between two snapshots. */
export function healthTransitions(
  previous: HealthySnapshot,
  next: HealthySnapshot,
): HealthTransition[] {
  const transitions: HealthTransition[] = [];
  for (const backend of next.backends) {
    const wasIn = !previous.down.has(backend);
    const isIn = !next.down.has(backend);
    if (wasIn && !isIn) {
      transitions.push({ backend, healthy: false, reason: next.down.get(backend) ?? '' });
    } else if (!wasIn && isIn) {
      transitions.push({ backend, healthy: true });
    }
  }
  return transitions;
}
