import type { Picker } from './picker';

/** Each candidate in turn, in order: exactly even over any run of whole cycles. */
export function roundRobin(): Picker {
  let next = 0;
  return (candidates) => {
    if (candidates.length === 0) return undefined;
    if (next >= candidates.length) next = 0;
    return candidates[next++];
  };
}
