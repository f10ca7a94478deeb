import type { Picker, RandomSource } from './picker';

/** A uniform choice; pass a seeded source to make it repeatable. */
export function random(source: RandomSource = Math.random): Picker {
  return (candidates) =>
    candidates.length === 0 ? undefined : candidates[Math.floor(source() * candidates.length)];
}
