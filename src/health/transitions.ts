import type { OutOfRotationCause } from '../events';
import type { HealthySnapshot } from '../streams/healthySet';

export interface HealthTransition {
  readonly backend: string;
  readonly healthy: boolean;
  /** Why it left rotation. */
  readonly reason?: string;
  readonly cause?: OutOfRotationCause;
  /** For an ejection: when it returns to rotation. */
  readonly returnsAt?: number;
}

const HOOKED = { cause: 'hook' as const, returnsAt: undefined };

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
      const { cause, returnsAt } = next.causes?.get(backend) ?? HOOKED;
      transitions.push({
        backend,
        healthy: false,
        reason: next.down.get(backend) ?? '',
        cause,
        ...(returnsAt === undefined ? {} : { returnsAt }),
      });
    } else if (!wasIn && isIn) {
      transitions.push({ backend, healthy: true });
    }
  }
  return transitions;
}
