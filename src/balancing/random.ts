import { remaining, type Picker, type RandomSource } from './picker';

/** A uniform choice; pass a seeded source to make it repeatable. */
export function random(source: RandomSource = Math.random): Picker {
  return (candidates, request) => {
    const choices = remaining(candidates, request?.excluded);
    return choices.length === 0 ? undefined : choices[Math.floor(source() * choices.length)];
  };
}
