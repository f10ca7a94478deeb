import { remaining, type Picker } from './picker';

/** Each candidate in turn, in order: exactly even over any run of whole cycles. */
export function roundRobin(): Picker {
  let next = 0;
  return (candidates, request) => {
    const choices = remaining(candidates, request?.excluded);
    if (choices.length === 0) return undefined;
    if (next >= choices.length) next = 0;
    return choices[next++];
  };
}
