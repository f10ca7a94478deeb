/** One configuration of the reload cycle, as the `[http]` section of a file. */
export interface PlanStep {
  readonly ini: string;
  readonly withThird: boolean;
  readonly minWorkers: number;
  readonly maxWorkers: number;
}

interface StepSpec {
  readonly algorithm: string;
  readonly weights: readonly [number, number];
  readonly minWorkers: number;
  readonly maxWorkers: number;
  readonly withThird: boolean;
}

/**
 * Five configurations over three servers, applied in turn: weights, the algorithm and the
 * worker limits change every time; server3 is removed by the third and comes back with the
 * first, three reloads later, so that each removal's drain has ended before it returns.
 * worker_timeout stays long so that idle timeouts do not open connections of their own.
 */
const CYCLE: readonly StepSpec[] = [
  { algorithm: 'round-robin', weights: [1, 1], minWorkers: 1, maxWorkers: 3, withThird: true },
  {
    algorithm: 'weighted-round-robin',
    weights: [3, 2],
    minWorkers: 1,
    maxWorkers: 3,
    withThird: true,
  },
  {
    algorithm: 'least-connections',
    weights: [1, 2],
    minWorkers: 2,
    maxWorkers: 5,
    withThird: false,
  },
  { algorithm: 'power-of-two', weights: [2, 1], minWorkers: 1, maxWorkers: 3, withThird: false },
  { algorithm: 'random', weights: [2, 5], minWorkers: 1, maxWorkers: 4, withThird: false },
];

/** The cycle over the servers at `addresses` (server1, server2, server3). */
export function reloadPlan(addresses: readonly string[]): PlanStep[] {
  return CYCLE.map((spec) => {
    const servers = addresses.slice(0, spec.withThird ? 3 : 2);
    const lines = [
      '[http]',
      `algorithm=${spec.algorithm}`,
      `min_workers=${spec.minWorkers}`,
      `max_workers=${spec.maxWorkers}`,
      'worker_timeout=60',
      ...servers.map((address, i) => `server${i + 1}=${address}`),
      ...spec.weights.map((weight, i) => `server${i + 1}_weight=${weight}`),
    ];
    return {
      ini: `${lines.join('\n')}\n`,
      withThird: spec.withThird,
      minWorkers: spec.minWorkers,
      maxWorkers: spec.maxWorkers,
    };
  });
}

/** Upstream workers a server may add over `reloads` of the plan: a limit raised by N allows N. */
export function allowedGrowth(plan: readonly PlanStep[], reloads: number): number {
  let allowed = 0;
  for (let k = 1; k <= reloads; k++) {
    const step = plan[k % plan.length] as PlanStep;
    const previous = plan[(k - 1) % plan.length] as PlanStep;
    allowed += Math.max(0, step.maxWorkers - previous.maxWorkers);
    allowed += Math.max(0, step.minWorkers - previous.minWorkers);
  }
  return allowed;
}
