import { createPicker, seededRandom } from '../../src/balancing';
import { candidates, tally } from './candidates';

describe('power-of-two', () => {
  it.each([1, 2, 3, 42])('never picks the loaded one of 0, 0, 100 (seed %d)', (seed) => {
    const pick = createPicker('power-of-two', { random: seededRandom(seed) });
    const set = candidates(['a', 'b', 'c'], [], [0, 0, 100]);
    const counts = tally(() => pick(set), 1000);
    expect(counts.c).toBeUndefined();
    expect(counts.a).toBeGreaterThan(400);
    expect(counts.b).toBeGreaterThan(400);
  });

  it.each([1, 2, 3, 42])(
    'with equal loads is uniform (seed %d, chi-squared, 4 bins, p > 0.001)',
    (seed) => {
      const pick = createPicker('power-of-two', { random: seededRandom(seed) });
      const set = candidates(['a', 'b', 'c', 'd'], [], [7, 7, 7, 7]);
      const times = 40_000;
      const counts = tally(() => pick(set), times);
      const expected = times / set.length;
      const chiSquared = set.reduce(
        (sum, { name }) => sum + ((counts[name] ?? 0) - expected) ** 2 / expected,
        0,
      );
      expect(chiSquared).toBeLessThan(16.27);
    },
  );

  it('keeps the loads level when requests pile up', () => {
    const pick = createPicker('power-of-two', { random: seededRandom(5) });
    const set = candidates(['a', 'b', 'c', 'd', 'e']);
    for (let i = 0; i < 1000; i++) pick(set)!.load++;
    const loads = set.map((candidate) => candidate.load);
    expect(Math.max(...loads) - Math.min(...loads)).toBeLessThanOrEqual(3);
  });

  it('returns the only candidate', () => {
    const pick = createPicker('power-of-two', { random: seededRandom(1) });
    const set = candidates(['a', 'b'], [], [0, 50]);
    expect(pick(set.slice(1))?.name).toBe('b');
    expect(pick(set, { excluded: new Set(['a']) })?.name).toBe('b');
  });

  it('repeats itself with the same seed', () => {
    const set = candidates(['a', 'b', 'c', 'd'], [], [1, 2, 3, 4]);
    const first = createPicker('power-of-two', { random: seededRandom(9) });
    const second = createPicker('power-of-two', { random: seededRandom(9) });
    expect(Array.from({ length: 30 }, () => first(set)?.name)).toEqual(
      Array.from({ length: 30 }, () => second(set)?.name),
    );
  });
});
