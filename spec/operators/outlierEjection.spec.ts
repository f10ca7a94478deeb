import { asyncScheduler, type SchedulerAction, type SchedulerLike } from 'rxjs';
import {
  outlierEjection,
  type EjectionChange,
  type EjectionInput,
  type OutlierOptions,
  type OutlierSettings,
  type TrafficOutcome,
} from '../../src/operators/outlierEjection';
import { marbles } from '../helpers/marbles';

const settings: OutlierSettings = { maxFails: 2, ejectTimeMs: 5, maxEjectionPercent: 100 };
const options: OutlierOptions = { ...settings, backends: ['x', 'y', 'z'] };

/** Source values: a lower-case letter is a failure of that backend, upper-case a success. */
const outcomes: Record<string, TrafficOutcome> = {
  x: { backend: 'x', ok: false },
  y: { backend: 'y', ok: false },
  z: { backend: 'z', ok: false },
  w: { backend: 'w', ok: false },
  X: { backend: 'x', ok: true },
};

const ejected = (backend: string, forMs: number, failures = options.maxFails): EjectionChange => ({
  backend,
  ejected: true,
  forMs,
  failures,
});
const returned = (backend: string): EjectionChange => ({ backend, ejected: false });

/** Delegates to `scheduler`, recording the virtual time at which each scheduled work runs. */
function recordingRuns(scheduler: SchedulerLike, runs: number[]): SchedulerLike {
  return {
    now: () => scheduler.now(),
    schedule<T>(work: (this: SchedulerAction<T>, state?: T) => void, delay?: number, state?: T) {
      return scheduler.schedule<T>(
        function (this: SchedulerAction<T>, current?: T) {
          runs.push(scheduler.now());
          work.call(this, current);
        },
        delay,
        state,
      );
    },
  };
}

describe('outlierEjection', () => {
  it('emits nothing while no outcome arrives (never)', () => {
    marbles(({ cold, expectObservable }) => {
      expectObservable(cold<TrafficOutcome>('-').pipe(outlierEjection(options))).toBe('-');
    });
  });

  it('completes with an empty source (empty)', () => {
    marbles(({ cold, expectObservable }) => {
      expectObservable(cold<TrafficOutcome>('|').pipe(outlierEjection(options))).toBe('|');
    });
  });

  it('emits nothing for a single failure below max_fails, and completes with the source', () => {
    marbles(({ cold, expectObservable }) => {
      const source = cold('-x|', outcomes);
      expectObservable(source.pipe(outlierEjection(options))).toBe('--|');
    });
  });

  it('ejects a backend exactly when its consecutive failures reach max_fails', () => {
    marbles(({ cold, expectObservable, time }) => {
      const ejectTimeMs = time('x----|');
      const source = cold('-xx-x', outcomes);
      expectObservable(source.pipe(outlierEjection({ ...options, maxFails: 3, ejectTimeMs }))).toBe(
        '----x----X',
        { x: ejected('x', ejectTimeMs, 3), X: returned('x') },
      );
    });
  });

  it('resets the failure count on a success', () => {
    marbles(({ cold, expectObservable, time }) => {
      const ejectTimeMs = time('x----|');
      const source = cold('-xXx-x', outcomes);
      expectObservable(source.pipe(outlierEjection({ ...options, ejectTimeMs }))).toBe(
        '-----x----X',
        { x: ejected('x', ejectTimeMs), X: returned('x') },
      );
    });
  });

  it('returns the backend after eject_time and restarts its failure count from zero', () => {
    marbles(({ cold, expectObservable, time }) => {
      const ejectTimeMs = time('x---|');
      const source = cold('-xx----x|', outcomes);
      expectObservable(source.pipe(outlierEjection({ ...options, ejectTimeMs }))).toBe(
        '--x---X-|',
        { x: ejected('x', ejectTimeMs), X: returned('x') },
      );
    });
  });

  it('ignores outcomes for a backend while it is ejected', () => {
    marbles(({ cold, expectObservable, time }) => {
      const ejectTimeMs = time('x---|');
      const source = cold('-xxxXx|', outcomes);
      expectObservable(source.pipe(outlierEjection({ ...options, ejectTimeMs }))).toBe(
        '--x---(X|)',
        { x: ejected('x', ejectTimeMs), X: returned('x') },
      );
    });
  });

  it('doubles the ejection on each repeat, up to max_eject_time', () => {
    marbles(({ cold, expectObservable, time }) => {
      const ejectTimeMs = time('a-|');
      const maxEjectTimeMs = time('d---------|');
      const source = cold('-x--x 4ms x 8ms x', outcomes);
      const ejection = outlierEjection({ ...options, maxFails: 1, ejectTimeMs, maxEjectTimeMs });
      expectObservable(source.pipe(ejection)).toBe('-a-Rb 3ms Rc 7ms Rd 9ms R', {
        a: ejected('x', ejectTimeMs, 1),
        b: ejected('x', 2 * ejectTimeMs, 1),
        c: ejected('x', 4 * ejectTimeMs, 1),
        d: ejected('x', maxEjectTimeMs, 1),
        R: returned('x'),
      });
      expect(4 * ejectTimeMs).toBeLessThan(maxEjectTimeMs);
      expect(8 * ejectTimeMs).toBeGreaterThan(maxEjectTimeMs);
    });
  });

  it('stops counting ejections at max_eject_time, so one quiet period shortens the next', () => {
    marbles(({ cold, expectObservable, time }) => {
      const ejectTimeMs = time('a-|');
      const maxEjectTimeMs = time('b---|');
      const source = cold('-x--x 4ms x 5ms x', outcomes);
      const ejection = outlierEjection({ ...options, maxFails: 1, ejectTimeMs, maxEjectTimeMs });
      expectObservable(source.pipe(ejection)).toBe('-a-Rb---Rb---R-a-R', {
        a: ejected('x', ejectTimeMs, 1),
        b: ejected('x', maxEjectTimeMs, 1),
        R: returned('x'),
      });
    });
  });

  it('forgets one earlier ejection per full eject_time without a new ejection', () => {
    marbles(({ cold, expectObservable, time }) => {
      const ejectTimeMs = time('a-|');
      const source = cold('-x--x 5ms x 7ms x', outcomes);
      expectObservable(source.pipe(outlierEjection({ ...options, maxFails: 1, ejectTimeMs }))).toBe(
        '-a-Rb---R-b---R---a-R',
        {
          a: ejected('x', ejectTimeMs, 1),
          b: ejected('x', 2 * ejectTimeMs, 1),
          R: returned('x'),
        },
      );
    });
  });

  it('ejects at most max_ejection_percent of the pool; a refused backend keeps its count', () => {
    marbles(({ cold, expectObservable, time }) => {
      const ejectTimeMs = time('x---|');
      const source = cold('-xyxy----y', outcomes);
      expectObservable(
        source.pipe(outlierEjection({ ...options, ejectTimeMs, maxEjectionPercent: 50 })),
      ).toBe('---x---X-y---Y', {
        x: ejected('x', ejectTimeMs),
        X: returned('x'),
        y: ejected('y', ejectTimeMs, 3),
        Y: returned('y'),
      });
    });
  });

  it('never ejects the only backend of a pool at 50 %', () => {
    marbles(({ cold, expectObservable }) => {
      const source = cold('-xxxx|', outcomes);
      const ejection = outlierEjection({ ...options, backends: ['x'], maxEjectionPercent: 50 });
      expectObservable(source.pipe(ejection)).toBe('-----|');
    });
  });

  it('ignores outcomes for backends not in the pool', () => {
    marbles(({ cold, expectObservable }) => {
      const source = cold('-www|', outcomes);
      expectObservable(source.pipe(outlierEjection(options))).toBe('----|');
    });
  });

  it('passes a source error through', () => {
    marbles(({ cold, expectObservable }) => {
      const source = cold('-x#', outcomes);
      expectObservable(source.pipe(outlierEjection(options))).toBe('--#');
    });
  });

  it('passes an error through at once, even with an ejection pending', () => {
    marbles(({ cold, expectObservable, time }) => {
      const ejectTimeMs = time('x----|');
      const source = cold('-xx-#', outcomes);
      expectObservable(source.pipe(outlierEjection({ ...options, ejectTimeMs }))).toBe('--x-#', {
        x: ejected('x', ejectTimeMs),
      });
    });
  });

  it('completes after the source only once every ejection has returned', () => {
    marbles(({ cold, expectObservable, time }) => {
      const ejectTimeMs = time('x----|');
      const source = cold('-xxy|', outcomes);
      expectObservable(source.pipe(outlierEjection({ ...options, ejectTimeMs }))).toBe(
        '--x----(X|)',
        { x: ejected('x', ejectTimeMs), X: returned('x') },
      );
    });
  });

  it('tears the pending return down on early unsubscription', () => {
    const runs: number[] = [];
    marbles(({ cold, expectObservable, expectSubscriptions, time }) => {
      const ejectTimeMs = time('x----|');
      const source = cold('-xx-------', outcomes);
      const ejection = outlierEjection(
        { ...options, ejectTimeMs },
        recordingRuns(asyncScheduler, runs),
      );
      expectObservable(source.pipe(ejection), '^---!').toBe('--x-', {
        x: ejected('x', ejectTimeMs),
      });
      expectSubscriptions(source.subscriptions).toBe('^---!');
    });
    expect(runs).toEqual([]);
  });

  it('runs the return timer on the injected scheduler when left subscribed', () => {
    const runs: number[] = [];
    marbles(({ cold, expectObservable, time }) => {
      const ejectTimeMs = time('x----|');
      const source = cold('-xx-------', outcomes);
      const ejection = outlierEjection(
        { ...options, ejectTimeMs },
        recordingRuns(asyncScheduler, runs),
      );
      expectObservable(source.pipe(ejection)).toBe('--x----X--', {
        x: ejected('x', ejectTimeMs),
        X: returned('x'),
      });
    });
    expect(runs).toEqual([7]);
  });

  describe('with active health checks (unejectAfterProbes)', () => {
    const withProbes: OutlierOptions = { ...options, ejectTimeMs: 100, unejectAfterProbes: 2 };
    const inputs: Record<string, EjectionInput> = {
      c: { backend: 'x', ok: false, failure: 'connection' },
      r: { backend: 'x', ok: false, failure: 'response' },
      p: { backend: 'x', probeUp: true },
      f: { backend: 'x', probeUp: false },
    };

    it('returns a backend ejected for connection failures after that many passing probes', () => {
      marbles(({ cold, expectObservable }) => {
        const source = cold<EjectionInput>('cc-p-p', inputs);
        expectObservable(source.pipe(outlierEjection(withProbes))).toBe('-a---b', {
          a: ejected('x', 100),
          b: returned('x'),
        });
      });
    });

    it('does not return it a second time when the ejection time is up', () => {
      marbles(({ cold, expectObservable }) => {
        const source = cold<EjectionInput>('cc-p-p 200ms |', inputs);
        expectObservable(source.pipe(outlierEjection(withProbes))).toBe('-a---b 200ms |', {
          a: ejected('x', 100),
          b: returned('x'),
        });
      });
    });

    it('starts counting again after a failing probe', () => {
      marbles(({ cold, expectObservable }) => {
        const source = cold<EjectionInput>('cc-pfp-p', inputs);
        expectObservable(source.pipe(outlierEjection(withProbes))).toBe('-a-----b', {
          a: ejected('x', 100),
          b: returned('x'),
        });
      });
    });

    it('keeps the full ejection time when a failure was a bad response', () => {
      marbles(({ cold, expectObservable }) => {
        const source = cold<EjectionInput>('rc-p-p-p', inputs);
        expectObservable(source.pipe(outlierEjection(withProbes))).toBe('-a 99ms b', {
          a: ejected('x', 100),
          b: returned('x'),
        });
      });
    });

    it('ignores probes of backends that are not ejected', () => {
      marbles(({ cold, expectObservable }) => {
        const source = cold<EjectionInput>('ppfpc-c', inputs);
        expectObservable(source.pipe(outlierEjection(withProbes))).toBe('------a 99ms b', {
          a: ejected('x', 100),
          b: returned('x'),
        });
      });
    });

    it('ignores probes without unejectAfterProbes', () => {
      marbles(({ cold, expectObservable }) => {
        const source = cold<EjectionInput>('cc-p-p-p', inputs);
        expectObservable(
          source.pipe(outlierEjection({ ...withProbes, unejectAfterProbes: undefined })),
        ).toBe('-a 99ms b', {
          a: ejected('x', 100),
          b: returned('x'),
        });
      });
    });
  });
});

describe('outlierEjection over a changing backend list', () => {
  const { ejectTimeMs } = settings;

  it('counts the cap on the current list; a backend refused by the cap keeps its count', () => {
    marbles(({ cold, expectObservable, time }) => {
      const ejectTimeMs = time('x----|');
      const backends$ = cold<readonly string[]>('l--m', { l: ['x'], m: ['x', 'y'] });
      const source = cold('-xx-x', outcomes);
      const ejection = outlierEjection({
        ...settings,
        ejectTimeMs,
        maxEjectionPercent: 50,
        backends$,
      });
      expectObservable(source.pipe(ejection)).toBe('----a----R', {
        a: ejected('x', ejectTimeMs, 3),
        R: returned('x'),
      });
    });
  });

  it('lowers the cap when the list shrinks', () => {
    marbles(({ cold, expectObservable }) => {
      const backends$ = cold<readonly string[]>('l-m', { l: ['x', 'y'], m: ['x'] });
      const source = cold('---xx|', outcomes);
      const ejection = outlierEjection({ ...settings, maxEjectionPercent: 50, backends$ });
      expectObservable(source.pipe(ejection)).toBe('-----|');
    });
  });

  it('drops a removed backend: its return emits nothing and the cap no longer counts it', () => {
    marbles(({ cold, expectObservable }) => {
      const backends$ = cold<readonly string[]>('l----m', { l: ['x', 'y', 'z'], m: ['y', 'z'] });
      const source = cold('-xxyy-y', outcomes);
      const ejection = outlierEjection({ ...settings, maxEjectionPercent: 50, backends$ });
      expectObservable(source.pipe(ejection)).toBe('--a---b----R', {
        a: ejected('x', ejectTimeMs),
        b: ejected('y', ejectTimeMs, 3),
        R: returned('y'),
      });
    });
  });

  it('starts a backend removed and listed again afresh, its old return silent', () => {
    marbles(({ cold, expectObservable }) => {
      const backends$ = cold<readonly string[]>('l--m-l', { l: ['x', 'y'], m: ['y'] });
      const source = cold('-xx-x-xx', outcomes);
      expectObservable(source.pipe(outlierEjection({ ...settings, backends$ }))).toBe(
        '--a----a----R',
        { a: ejected('x', ejectTimeMs), R: returned('x') },
      );
    });
  });

  it('ignores outcomes before the first list, and completes without waiting for the list', () => {
    marbles(({ cold, expectObservable }) => {
      const backends$ = cold<readonly string[]>('--l', { l: ['x'] });
      const source = cold('xx-xx|', outcomes);
      expectObservable(source.pipe(outlierEjection({ ...settings, backends$ }))).toBe(
        '----a----(R|)',
        { a: ejected('x', ejectTimeMs), R: returned('x') },
      );
    });
  });

  it('passes an error of the list through', () => {
    marbles(({ cold, expectObservable, expectSubscriptions }) => {
      const backends$ = cold<readonly string[]>('l--#', { l: ['x'] });
      const source = cold('-xx----', outcomes);
      expectObservable(source.pipe(outlierEjection({ ...settings, backends$ }))).toBe('--a#', {
        a: ejected('x', ejectTimeMs),
      });
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });

  it('unsubscribes the list and tears the pending return down on early unsubscription', () => {
    const runs: number[] = [];
    marbles(({ cold, expectObservable, expectSubscriptions }) => {
      const backends$ = cold<readonly string[]>('l-------m', { l: ['x'], m: ['x', 'y'] });
      const source = cold('-xx-------', outcomes);
      const ejection = outlierEjection(
        { ...settings, backends$ },
        recordingRuns(asyncScheduler, runs),
      );
      expectObservable(source.pipe(ejection), '^---!').toBe('--a-', {
        a: ejected('x', ejectTimeMs),
      });
      expectSubscriptions(backends$.subscriptions).toBe('^---!');
      expectSubscriptions(source.subscriptions).toBe('^---!');
    });
    expect(runs).toEqual([]);
  });
});
