import type { Algorithm } from '../config';
import type { Picker, RandomSource } from './picker';
import { random } from './random';
import { roundRobin } from './roundRobin';

export type { Picker, RandomSource } from './picker';
export { seededRandom } from './seededRandom';

export function createPicker(algorithm: Algorithm, source: RandomSource = Math.random): Picker {
  switch (algorithm) {
    case 'round-robin':
      return roundRobin();
    case 'random':
      return random(source);
  }
}
