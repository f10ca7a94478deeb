import { createPicker } from '../../src/balancing';
import { candidates, tally } from './candidates';

describe('least-connections', () => {
  it.each([
    { loads: [3, 1, 2], expected: 'b' },
    { loads: [0, 5, 5], expected: 'a' },
    { loads: [9, 9, 2], expected: 'c' },
    { loads: [4, 0, 0.5], expected: 'b' },
  ])('with loads $loads picks $expected', ({ loads, expected }) => {
    const pick = createPicker('least-connections');
    const set = candidates(['a', 'b', 'c'], [], loads);
    expect(tally(() => pick(set), 10)).toEqual({ [expected]: 10 });
  });

  it('rotates over candidates with equal loads', () => {
    const pick = createPicker('least-connections');
    const set = candidates(['a', 'b', 'c', 'd'], [], [2, 2, 2, 2]);
    expect(Array.from({ length: 8 }, () => pick(set)?.name).join('')).toBe('abcdabcd');
  });

  it('rotates only over the least loaded ones', () => {
    const pick = createPicker('least-connections');
    const set = candidates(['a', 'b', 'c', 'd'], [], [1, 0, 5, 0]);
    expect(tally(() => pick(set), 100)).toEqual({ b: 50, d: 50 });
  });

  it('follows the loads as they change', () => {
    const pick = createPicker('least-connections');
    const set = candidates(['a', 'b', 'c']);
    // Requests that never finish: each pick adds one in flight, so the loads stay level.
    for (let i = 0; i < 30; i++) pick(set)!.load++;
    expect(set.map((candidate) => candidate.load)).toEqual([10, 10, 10]);
    set[1]!.load = 0;
    expect(pick(set)?.name).toBe('b');
  });

  it('skips excluded candidates even when they are the least loaded', () => {
    const pick = createPicker('least-connections');
    const set = candidates(['a', 'b', 'c'], [], [5, 0, 3]);
    expect(pick(set, { excluded: new Set(['b']) })?.name).toBe('c');
  });
});
