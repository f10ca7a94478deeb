import type { Picker } from './picker';

interface Slot {
  /** nginx's `current_weight`. */
  current: number;
  /** The pick that last saw this name among the candidates. */
  seen: number;
}

/**
 * nginx's smooth weighted round-robin. On each pick every candidate's current weight grows by
 * its weight, the one with the largest current weight is chosen (ties: the first in order), and
 * the chosen one's current weight drops by the total of the weights. Over any run of
 * sum-of-weights picks (for integer weights) each candidate is chosen exactly weight times, and
 * the choices are interleaved (5, 1, 1 gives a a b a c a a) rather than bunched.
 *
 * Weights may be fractional. The state is kept per name, so it survives changes of the
 * candidate set: a new name starts at 0, and names no longer offered are forgotten (a backend
 * that comes back starts afresh). Excluded candidates are skipped and their state left as is.
 */
export function weightedRoundRobin(): Picker {
  const slots = new Map<string, Slot>();
  let pick = 0;

  return (candidates, request) => {
    const excluded = request?.excluded && request.excluded.size > 0 ? request.excluded : undefined;
    pick++;
    let total = 0;
    let best: (typeof candidates)[number] | undefined;
    let bestSlot: Slot | undefined;
    for (const candidate of candidates) {
      let slot = slots.get(candidate.name);
      if (slot === undefined) {
        slot = { current: 0, seen: pick };
        slots.set(candidate.name, slot);
      }
      slot.seen = pick;
      if (excluded?.has(candidate.name)) continue;
      slot.current += candidate.weight;
      total += candidate.weight;
      if (bestSlot === undefined || slot.current > bestSlot.current) {
        best = candidate;
        bestSlot = slot;
      }
    }
    if (bestSlot !== undefined) bestSlot.current -= total;
    if (slots.size > candidates.length) {
      for (const [name, slot] of slots) if (slot.seen !== pick) slots.delete(name);
    }
    return best;
  };
}
