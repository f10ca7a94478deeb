import type { Algorithm } from '../config';
import { consistentHash } from './consistentHash';
import { leastConnections } from './leastConnections';
import type { Picker, PickerOptions } from './picker';
import { powerOfTwo } from './powerOfTwo';
import { random } from './random';
import { roundRobin } from './roundRobin';
import { weightedRoundRobin } from './weightedRoundRobin';

export type { Candidate, Picker, PickerOptions, PickRequest, RandomSource } from './picker';
export { seededRandom } from './seededRandom';
export { stableHash } from './stableHash';

export function createPicker(algorithm: Algorithm, options: PickerOptions = {}): Picker {
  switch (algorithm) {
    case 'round-robin':
      return roundRobin();
    case 'random':
      return random(options.random);
    case 'weighted-round-robin':
      return weightedRoundRobin();
    case 'least-connections':
      return leastConnections();
    case 'power-of-two':
      return powerOfTwo(options.random);
    case 'consistent-hash':
      return consistentHash(options);
    default: {
      const unknown: never = algorithm;
      throw new Error(`unknown balancing algorithm ${String(unknown)}`);
    }
  }
}
