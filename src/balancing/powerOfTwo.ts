import { remaining, type Picker, type RandomSource } from './picker';

/**
 * The power of two random choices: draw two distinct candidates at random and take the less
 * loaded one (on a tie, the first drawn). Nearly as even as least-connections, without herding
 * every proxy instance onto the same idle backend. With one candidate, that one. Excluded
 * candidates are never drawn.
 */
export function powerOfTwo(source: RandomSource = Math.random): Picker {
  return (candidates, request) => {
    const choices = remaining(candidates, request?.excluded);
    const count = choices.length;
    if (count <= 1) return choices[0];
    const first = Math.floor(source() * count);
    let second = Math.floor(source() * (count - 1));
    if (second >= first) second++;
    const a = choices[first]!;
    const b = choices[second]!;
    return b.load < a.load ? b : a;
  };
}
