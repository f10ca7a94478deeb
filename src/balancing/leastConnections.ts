import type { Picker } from './picker';

/**
 * The candidate with the smallest load (requests in flight). The scan starts just after the
 * previous choice, and only a strictly smaller load displaces the best so far, so candidates with
 * equal loads take turns (round-robin) instead of the first one always winning. Weights are not
 * considered. Excluded candidates are skipped.
 */
export function leastConnections(): Picker {
  let start = 0;

  return (candidates, request) => {
    const excluded = request?.excluded && request.excluded.size > 0 ? request.excluded : undefined;
    const count = candidates.length;
    if (start >= count) start = 0;
    let best: (typeof candidates)[number] | undefined;
    let bestLoad = Infinity;
    let bestIndex = 0;
    for (let offset = 0; offset < count; offset++) {
      let index = start + offset;
      if (index >= count) index -= count;
      const candidate = candidates[index]!;
      if (excluded?.has(candidate.name)) continue;
      const load = candidate.load;
      if (best === undefined || load < bestLoad) {
        best = candidate;
        bestLoad = load;
        bestIndex = index;
      }
    }
    if (best !== undefined) start = bestIndex + 1;
    return best;
  };
}
