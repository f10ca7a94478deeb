import { createPicker } from '../../src/balancing';
import { candidates, tally } from './candidates';

describe('weighted-round-robin', () => {
  it("follows nginx's smooth sequence for weights 5, 1, 1", () => {
    const pick = createPicker('weighted-round-robin');
    const set = candidates(['a', 'b', 'c'], [5, 1, 1]);
    expect(Array.from({ length: 14 }, () => pick(set)?.name).join(' ')).toBe(
      'a a b a c a a a a b a c a a',
    );
  });

  it.each([
    { weights: [5, 1, 1], times: 700, expected: { a: 500, b: 100, c: 100 } },
    { weights: [1, 1, 1], times: 300, expected: { a: 100, b: 100, c: 100 } },
    { weights: [3, 2, 1], times: 600, expected: { a: 300, b: 200, c: 100 } },
    { weights: [0.9, 0.1], times: 100, expected: { a: 90, b: 10 } },
    { weights: [0.35, 0.35, 0.3], times: 1000, expected: { a: 350, b: 350, c: 300 } },
    { weights: [2.5, 0.5], times: 600, expected: { a: 500, b: 100 } },
  ])(
    'weights $weights give exactly $expected over $times picks',
    ({ weights, times, expected }) => {
      const pick = createPicker('weighted-round-robin');
      const set = candidates(['a', 'b', 'c'].slice(0, weights.length), weights);
      expect(tally(() => pick(set), times)).toEqual(expected);
    },
  );

  it('interleaves rather than bunching the heavy candidate', () => {
    const pick = createPicker('weighted-round-robin');
    const set = candidates(['a', 'b'], [0.9, 0.1]);
    const sequence = Array.from({ length: 100 }, () => pick(set)?.name).join('');
    expect(sequence).not.toContain('bb');
    expect(sequence).not.toMatch(/a{10}/);
  });

  it('keeps working when a candidate is added or removed mid-way', () => {
    const pick = createPicker('weighted-round-robin');
    const two = candidates(['a', 'b'], [2, 1]);
    expect(tally(() => pick(two), 31)).toEqual({ a: 21, b: 10 });
    const three = [...two, { name: 'c', weight: 3, load: 0 }];
    // Give the newcomer's state a few rounds to settle, then the shares are exact.
    tally(() => pick(three), 60);
    expect(tally(() => pick(three), 600)).toEqual({ a: 200, b: 100, c: 300 });
    const back = candidates(['b', 'c'], [1, 1]);
    tally(() => pick(back), 10);
    expect(tally(() => pick(back), 100)).toEqual({ b: 50, c: 50 });
  });

  it('skips excluded candidates and keeps the others in proportion', () => {
    const pick = createPicker('weighted-round-robin');
    const set = candidates(['a', 'b', 'c'], [5, 1, 2]);
    const excluded = new Set(['a']);
    expect(tally(() => pick(set, { excluded }), 300)).toEqual({ b: 100, c: 200 });
  });
});
