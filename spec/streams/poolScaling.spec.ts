import { poolScaling, reconnectBackoffMs, type PoolSignal } from '../../src/streams/poolScaling';
import { marbles } from '../helpers/marbles';

const limits = { minWorkers: 1, maxWorkers: 4, idleTimeoutMs: 3 };
const spawn = (worker: number, reason = 'pressure') => ({ type: 'spawn', worker, reason });
const retire = (worker: number) => ({ type: 'retire', worker });
const pressure = (waiting: number, connecting = 0): PoolSignal => ({
  type: 'pressure',
  waiting,
  connecting,
});
const idle = (at: number, ...workers: [number, number][]): PoolSignal => ({
  type: 'idle',
  at,
  workers: workers.map(([worker, idleSince]) => ({ worker, idleSince })),
});

describe('poolScaling', () => {
  it('spawns min_workers at subscription, then nothing while nothing happens (never)', () => {
    marbles(({ cold, expectObservable }) => {
      expectObservable(poolScaling(cold('-'), { ...limits, minWorkers: 2 })).toBe('(ab)', {
        a: spawn(1, 'min'),
        b: spawn(2, 'min'),
      });
    });
  });

  it('completes after the initial workers when the signals complete (empty)', () => {
    marbles(({ cold, expectObservable }) => {
      expectObservable(poolScaling(cold('|'), limits)).toBe('(a|)', { a: spawn(1, 'min') });
    });
  });

  it('passes a signal error through', () => {
    marbles(({ cold, expectObservable }) => {
      expectObservable(poolScaling(cold('--#'), limits)).toBe('a-#', { a: spawn(1, 'min') });
    });
  });

  it('scales up on pressure, one worker per waiting request not already being connected', () => {
    marbles(({ cold, expectObservable }) => {
      const signals = cold('-a-b-c', { a: pressure(1), b: pressure(3, 1), c: pressure(1, 1) });
      expectObservable(poolScaling(signals, limits)).toBe('ab-(cd)', {
        a: spawn(1, 'min'),
        b: spawn(2),
        c: spawn(3),
        d: spawn(4),
      });
    });
  });

  it('caps the pool at max_workers', () => {
    marbles(({ cold, expectObservable }) => {
      const signals = cold('-a-a', { a: pressure(10) });
      expectObservable(poolScaling(signals, limits)).toBe('a(bcd)', {
        a: spawn(1, 'min'),
        b: spawn(2),
        c: spawn(3),
        d: spawn(4),
      });
    });
  });

  it('retires a worker idle for worker_timeout, oldest first, never below min_workers', () => {
    marbles(({ cold, expectObservable, time }) => {
      const timeout = time('---|');
      const signals = cold('-a---b-c', {
        a: pressure(2),
        b: idle(5, [2, 3], [3, 1], [1, 4]),
        c: idle(7, [2, 3], [1, 4], [3, 1]),
      });
      expectObservable(poolScaling(signals, { ...limits, idleTimeoutMs: timeout })).toBe(
        'a(bc)d-e',
        { a: spawn(1, 'min'), b: spawn(2), c: spawn(3), d: retire(3), e: retire(2) },
      );
    });
  });

  it('applies new limits: above a lower max, idle workers retire at once, oldest first', () => {
    marbles(({ cold, expectObservable }) => {
      const signals = cold('-a----b-c-d', {
        a: pressure(3),
        b: { type: 'limits' as const, limits: { ...limits, maxWorkers: 2, idleTimeoutMs: 1000 } },
        // Worker 4 is busy: only idle workers retire, the oldest first.
        c: idle(5, [2, 4], [1, 3], [3, 2]),
        d: pressure(5),
      });
      expectObservable(poolScaling(signals, limits)).toBe('a(bcd)--(ef)', {
        a: spawn(1, 'min'),
        b: spawn(2),
        c: spawn(3),
        d: spawn(4),
        e: retire(3),
        f: retire(1),
      });
    });
  });

  it('applies new limits: a higher min spawns up to it at once', () => {
    marbles(({ cold, expectObservable }) => {
      const signals = cold('-a', {
        a: { type: 'limits' as const, limits: { ...limits, minWorkers: 3 } },
      });
      expectObservable(poolScaling(signals, limits)).toBe('a(bc)', {
        a: spawn(1, 'min'),
        b: spawn(2, 'replace'),
        c: spawn(3, 'replace'),
      });
    });
  });

  it('keeps the floor: idle workers at min_workers stay', () => {
    marbles(({ cold, expectObservable }) => {
      const signals = cold('-a', { a: idle(100, [1, 0]) });
      expectObservable(poolScaling(signals, limits)).toBe('a-', { a: spawn(1, 'min') });
    });
  });

  it('replaces a worker whose connection dies at min_workers, at once', () => {
    marbles(({ cold, expectObservable }) => {
      const signals = cold<PoolSignal>('-a-b', {
        a: { type: 'ready', worker: 1 },
        b: { type: 'lost', worker: 1, connected: true },
      });
      expectObservable(poolScaling(signals, limits)).toBe('a--b', {
        a: spawn(1, 'min'),
        b: spawn(2, 'replace'),
      });
    });
  });

  const noJitter = { random: () => 0.5 };
  const refused = (worker: number): PoolSignal => ({ type: 'lost', worker, connected: false });

  it('backs off before another attempt at a backend that refused a connection', () => {
    marbles(({ cold, expectObservable }) => {
      expect(reconnectBackoffMs(1, noJitter.random)).toBe(100);
      const signals = cold<PoolSignal>('-a 48ms b 50ms c', {
        a: refused(1),
        b: idle(50),
        c: idle(101),
      });
      expectObservable(poolScaling(signals, limits, undefined, noJitter)).toBe('a 100ms b', {
        a: spawn(1, 'min'),
        b: spawn(2, 'retry'),
      });
    });
  });

  it('makes one attempt at a time while attempts fail, whatever the pressure', () => {
    marbles(({ cold, expectObservable }) => {
      const signals = cold<PoolSignal>('-ab 98ms c 100ms d', {
        a: refused(1),
        b: pressure(5),
        c: pressure(5),
        d: refused(2),
      });
      // attempt 2 at 101 ms; it fails at 201 ms, the next waits 200 ms: 401 ms.
      expectObservable(poolScaling(signals, limits, undefined, noJitter)).toBe(
        'a 100ms b 300ms c',
        { a: spawn(1, 'min'), b: spawn(2, 'retry'), c: spawn(3, 'retry') },
      );
    });
  });

  it('ends the backoff on the first connection and restores the floor at once', () => {
    marbles(({ cold, expectObservable }) => {
      const signals = cold<PoolSignal>('-ab 108ms c', {
        a: refused(1),
        b: refused(2),
        c: { type: 'ready', worker: 3 },
      });
      // two failures, one attempt (at 101 ms); it connects at 111 ms: the floor is restored.
      expectObservable(
        poolScaling(signals, { ...limits, minWorkers: 2 }, undefined, noJitter),
      ).toBe('(ab) 97ms c 9ms d', {
        a: spawn(1, 'min'),
        b: spawn(2, 'min'),
        c: spawn(3, 'retry'),
        d: spawn(4, 'replace'),
      });
    });
  });

  it('doubles the reconnect backoff up to 5 s, with ±20 % jitter', () => {
    expect([1, 2, 3, 6, 7, 20].map((failures) => reconnectBackoffMs(failures, () => 0.5))).toEqual([
      100, 200, 400, 3200, 5000, 5000,
    ]);
    expect(reconnectBackoffMs(1, () => 0)).toBe(80);
    expect(reconnectBackoffMs(7, () => 0.9999)).toBe(6000);
  });

  it('ignores the loss of a worker it already retired', () => {
    marbles(({ cold, expectObservable }) => {
      const signals = cold<PoolSignal>('-a-b-c', {
        a: pressure(1),
        b: idle(100, [2, 0]),
        c: { type: 'lost', worker: 2, connected: true },
      });
      expectObservable(poolScaling(signals, limits)).toBe('ab-c--', {
        a: spawn(1, 'min'),
        b: spawn(2),
        c: retire(2),
      });
    });
  });

  it('unsubscribes from the signals on teardown', () => {
    marbles(({ cold, expectObservable, expectSubscriptions }) => {
      const signals = cold('-a-a-a-a', { a: pressure(1) });
      expectObservable(poolScaling(signals, limits), '^--!').toBe('ab-', {
        a: spawn(1, 'min'),
        b: spawn(2),
      });
      expectSubscriptions(signals.subscriptions).toBe('^--!');
    });
  });
});
