import { remaining, type Candidate, type Picker, type PickerOptions } from './picker';
import { stableHash } from './stableHash';

/**
 * Points each backend has on the ring, whatever its weight: weights change at run time (dynamic
 * weights, slow start) and the ring must not, or keys would move between backends.
 */
export const POINTS_PER_BACKEND = 160;

/** Room for the rank of a name below a point's hash in one exact float64 (2^32 * 2^20 < 2^53). */
const RANK_SPACE = 2 ** 20;

/**
 * Consistent hashing on a ring of virtual nodes. Each backend owns POINTS_PER_BACKEND points,
 * at stableHash(`${name}#${i}`) for i = 0 .. POINTS_PER_BACKEND - 1; a key goes to the owner of
 * the first point at or after stableHash(key), wrapping around. The ring depends on the names
 * only, so the same key reaches the same backend for the same set of backends in every process,
 * and when a backend leaves only the keys it owned move (to the next points clockwise, spread
 * over the others). The ring is rebuilt only when the names change.
 *
 * Excluded backends are skipped by walking on clockwise. Without a hash key the choice is uniform
 * at random.
 *
 * With `hashBalanceFactor` > 0 the loads are bounded (Mirrokni, Thorup, Zadimoghaddam,
 * "Consistent Hashing with Bounded Loads"): capacity = ceil(factor / 100 * (total load + 1) / n)
 * over the n candidates not excluded, and the walk goes on to the first backend whose load is
 * below it. A factor of 100 or more always leaves one.
 */
export function consistentHash(options: PickerOptions = {}): Picker {
  const source = options.random ?? Math.random;
  const factor = options.hashBalanceFactor ?? 0;

  /** The names the ring was built for, in candidate order. */
  let names: string[] = [];
  /** Point hashes, ascending. */
  let points = new Uint32Array(0);
  /** For each point, the index of its owner in the candidates (and in `names`). */
  let owners = new Uint32Array(0);

  function sameNames(candidates: readonly Candidate[]): boolean {
    if (candidates.length !== names.length) return false;
    for (let i = 0; i < names.length; i++) if (candidates[i]!.name !== names[i]) return false;
    return true;
  }

  function rebuild(candidates: readonly Candidate[]): void {
    names = candidates.map((candidate) => candidate.name);
    // Points that hash alike are ordered by name, so the ring does not depend on server order.
    const byRank = names.map((_, index) => index);
    byRank.sort((a, b) => (names[a]! < names[b]! ? -1 : names[a]! > names[b]! ? 1 : a - b));
    const packed = new Float64Array(names.length * POINTS_PER_BACKEND);
    let k = 0;
    byRank.forEach((index, rank) => {
      for (let i = 0; i < POINTS_PER_BACKEND; i++) {
        packed[k++] = stableHash(`${names[index]!}#${i}`) * RANK_SPACE + rank;
      }
    });
    packed.sort();
    points = new Uint32Array(packed.length);
    owners = new Uint32Array(packed.length);
    for (let p = 0; p < packed.length; p++) {
      const value = packed[p]!;
      const rank = value % RANK_SPACE;
      points[p] = (value - rank) / RANK_SPACE;
      owners[p] = byRank[rank]!;
    }
  }

  /** The index of the first point at or after `hash`, wrapping to 0 past the last. */
  function firstPoint(hash: number): number {
    let low = 0;
    let high = points.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (points[middle]! < hash) low = middle + 1;
      else high = middle;
    }
    return low === points.length ? 0 : low;
  }

  return (candidates, request) => {
    const hashKey = request?.hashKey;
    if (hashKey === undefined) {
      const choices = remaining(candidates, request?.excluded);
      return choices.length === 0 ? undefined : choices[Math.floor(source() * choices.length)];
    }

    const excluded = request?.excluded && request.excluded.size > 0 ? request.excluded : undefined;
    let count = 0;
    let total = 0;
    for (const candidate of candidates) {
      if (excluded?.has(candidate.name)) continue;
      count++;
      if (factor > 0) total += candidate.load;
    }
    if (count === 0) return undefined;
    if (!sameNames(candidates)) rebuild(candidates);

    // In integers where possible: ceil(factor/100 * (total+1)/count) without rounding error.
    const capacity = factor > 0 ? Math.ceil((factor * (total + 1)) / (100 * count)) : Infinity;
    const size = points.length;
    const start = firstPoint(stableHash(hashKey));
    let fallback: (typeof candidates)[number] | undefined;
    for (let step = 0, p = start; step < size; step++, p = p + 1 === size ? 0 : p + 1) {
      const candidate = candidates[owners[p]!]!;
      if (excluded?.has(candidate.name)) continue;
      if (candidate.load < capacity) return candidate;
      fallback ??= candidate;
    }
    // Only reachable with a factor below 100: every backend is at capacity, so ignore it.
    return fallback;
  };
}
