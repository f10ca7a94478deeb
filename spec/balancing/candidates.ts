import { ALGORITHMS, type Algorithm } from '../../src/config/types';

/** A backend as the tests see it: `load` can be changed to simulate requests in flight. */
export interface TestCandidate {
  name: string;
  weight: number;
  load: number;
}

export const algorithms: readonly Algorithm[] = ALGORITHMS;

/** Candidates named after `names`, weight 1 and load 0 unless given. */
export function candidates(
  names: readonly string[],
  weights: readonly number[] = [],
  loads: readonly number[] = [],
): TestCandidate[] {
  return names.map((name, i) => ({ name, weight: weights[i] ?? 1, load: loads[i] ?? 0 }));
}

/** How often each name was chosen in `times` picks (`none` for undefined). */
export function tally(
  pick: () => TestCandidate | undefined,
  times: number,
): Record<string, number> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < times; i++) {
    const name = pick()?.name ?? 'none';
    counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}
