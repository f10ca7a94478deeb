import { restartDelay } from '../../src/cluster/restartBackoff';

describe('restartDelay', () => {
  it.each([
    [undefined, 100, 0],
    [undefined, 120_000, 0],
    [0, 100, 1000],
    [1000, 100, 2000],
    [2000, 59_999, 4000],
    [16_000, 100, 30_000],
    [30_000, 100, 30_000],
    [30_000, 60_000, 0],
    [4000, 61_000, 0],
  ])('after %p ms, a worker that lived %p ms waits %p ms', (previous, up, expected) => {
    expect(restartDelay(previous, up)).toBe(expected);
  });

  it('doubles from 1 s to 30 s through a crash loop', () => {
    const delays: number[] = [];
    let previous: number | undefined;
    for (let death = 0; death < 9; death++) {
      previous = restartDelay(previous, 50);
      delays.push(previous);
    }
    expect(delays).toEqual([0, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
  });
});
