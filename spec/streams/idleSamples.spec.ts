import { idleSampleMs, idleSamples } from '../../src/streams/idleSamples';
import type { PoolSignal } from '../../src/streams/poolScaling';
import { marbles } from '../helpers/marbles';

const sample = (at: number): PoolSignal => ({ type: 'idle', at, workers: [] });
const limits = (idleTimeoutMs: number): PoolSignal => ({
  type: 'limits',
  limits: { minWorkers: 1, maxWorkers: 4, idleTimeoutMs },
});

describe('idleSampleMs', () => {
  it('is a quarter of worker_timeout, kept between 50 ms and 1 s', () => {
    expect([0, 200, 400, 2000, 60_000].map(idleSampleMs)).toEqual([50, 50, 100, 500, 1000]);
  });
});

describe('idleSamples', () => {
  it('samples every quarter of worker_timeout', () => {
    marbles(({ hot, expectObservable }) => {
      const signals$ = hot<PoolSignal>('-');
      expectObservable(idleSamples(signals$, 400, sample), '^ 350ms !').toBe(
        '100ms a 99ms b 99ms c',
        { a: sample(100), b: sample(200), c: sample(300) },
      );
    });
  });

  it("follows a reload's worker_timeout: the new period counts from the change", () => {
    marbles(({ hot, expectObservable }) => {
      const signals$ = hot<PoolSignal>('150ms x', { x: limits(2000) });
      expectObservable(idleSamples(signals$, 400, sample), '^ 1200ms !').toBe(
        '100ms a 549ms b 499ms c',
        { a: sample(100), b: sample(650), c: sample(1150) },
      );
    });
  });

  it('keeps its rhythm when a reload changes other limits only', () => {
    marbles(({ hot, expectObservable }) => {
      const signals$ = hot<PoolSignal>('150ms x', { x: limits(400) });
      expectObservable(idleSamples(signals$, 400, sample), '^ 250ms !').toBe('100ms a 99ms b', {
        a: sample(100),
        b: sample(200),
      });
    });
  });
});
