import { NEVER, throwError, type Observable } from 'rxjs';
import type { ProbeResult } from '../../src/health/probeResult';
import { activeHealth } from '../../src/streams/activeHealth';
import { marbles } from '../helpers/marbles';

const up = (backend: string): ProbeResult => ({ backend, up: true });
const down = (backend: string, reason: string): ProbeResult => ({ backend, up: false, reason });

describe('activeHealth', () => {
  it('probes every backend at once and then every interval, applying rise/fall', () => {
    marbles(({ cold, expectObservable, time }) => {
      const interval = time('----|');
      const answers: Record<string, Observable<ProbeResult>[]> = {
        a: [
          cold('-a|', { a: up('a') }),
          cold('-a|', { a: down('a', 'status 500') }),
          cold('-a|', { a: up('a') }),
        ],
        b: [
          cold('--b|', { b: up('b') }),
          cold('--b|', { b: up('b') }),
          cold('--b|', { b: up('b') }),
        ],
      };
      const probe = (backend: string) => answers[backend]?.shift() ?? NEVER;
      const health = activeHealth(['a', 'b'], probe, {
        intervalMs: interval,
        timeoutMs: 3,
        rise: 2,
        fall: 1,
      });
      expectObservable(health, '^ 10ms !').toBe('-ab--cd--ef', {
        a: { ...up('a'), healthy: true },
        b: { ...up('b'), healthy: true },
        c: { ...down('a', 'status 500'), healthy: false },
        d: { ...up('b'), healthy: true },
        e: { ...up('a'), healthy: false },
        f: { ...up('b'), healthy: true },
      });
    });
  });

  it('turns a timeout, an error and an empty probe into failed results', () => {
    marbles(({ cold, expectObservable, time }) => {
      const timeout = time('--|');
      const answers = [
        cold<ProbeResult>('-----a|', { a: up('a') }),
        throwError(() => Object.assign(new Error('refused'), { code: 'ECONNREFUSED' })),
        cold<ProbeResult>('|'),
      ];
      const probe = () => answers.shift() ?? NEVER;
      const health = activeHealth(['a'], probe, {
        intervalMs: 5,
        timeoutMs: timeout,
        rise: 1,
        fall: 1,
      });
      expectObservable(health, '^ 11ms !').toBe('--x--y----z', {
        x: { ...down('a', 'no answer within 2 ms'), healthy: false, latencyMs: 2 },
        y: { ...down('a', 'ECONNREFUSED: refused'), healthy: false },
        z: { ...down('a', 'no answer'), healthy: false },
      });
    });
  });

  it('does not start a round while the previous probe of that backend is pending', () => {
    marbles(({ cold, expectObservable, expectSubscriptions }) => {
      const slow = cold<ProbeResult>('------a|', { a: up('a') });
      const health = activeHealth(['a'], () => slow, {
        intervalMs: 2,
        timeoutMs: 100,
        rise: 1,
        fall: 1,
      });
      expectObservable(health, '^ 9ms !').toBe('------a---', { a: { ...up('a'), healthy: true } });
      expectSubscriptions(slow.subscriptions).toBe(['^-----!', '------^---!']);
    });
  });

  it('completes at once with no backends and tears probes down on unsubscribe', () => {
    marbles(({ cold, expectObservable, expectSubscriptions }) => {
      expectObservable(
        activeHealth([], () => NEVER, { intervalMs: 5, timeoutMs: 1, rise: 1, fall: 1 }),
      ).toBe('|');
      const pending = cold<ProbeResult>('-');
      expectObservable(
        activeHealth(['a'], () => pending, { intervalMs: 50, timeoutMs: 40, rise: 1, fall: 1 }),
        '^--!',
      ).toBe('---');
      expectSubscriptions(pending.subscriptions).toBe('^--!');
    });
  });
});

describe('activeHealth over a changing backend list', () => {
  const options = { intervalMs: 4, timeoutMs: 3, rise: 2, fall: 1 };

  it('probes a backend added later at once and from unhealthy, leaving running loops alone', () => {
    marbles(({ cold, expectObservable, expectSubscriptions }) => {
      const lists = cold<readonly string[]>('l-----m', { l: ['a'], m: ['a', 'b'] });
      const answers: Record<string, Observable<ProbeResult>[]> = {
        a: [
          cold('-a|', { a: down('a', 'status 500') }),
          cold('-a|', { a: up('a') }),
          cold('-a|', { a: up('a') }),
        ],
        b: [cold('-b|', { b: up('b') }), cold('-b|', { b: up('b') })],
      };
      const probe = (backend: string) => answers[backend]?.shift() ?? NEVER;
      expectObservable(activeHealth(lists, probe, options), '^ 12ms !').toBe('-c---d-e-f-g', {
        c: { ...down('a', 'status 500'), healthy: false },
        d: { ...up('a'), healthy: false },
        e: { ...up('b'), healthy: false },
        f: { ...up('a'), healthy: true },
        g: { ...up('b'), healthy: true },
      });
      expectSubscriptions(lists.subscriptions).toBe('^ 12ms !');
    });
  });

  it('stops probing a removed backend and cancels its probe in flight', () => {
    marbles(({ cold, expectObservable, expectSubscriptions }) => {
      const lists = cold<readonly string[]>('l-----m', { l: ['a', 'b'], m: ['a'] });
      const fast = cold<ProbeResult>('-a|', { a: up('a') });
      const slow = cold<ProbeResult>('---b|', { b: up('b') });
      const probe = (backend: string) => (backend === 'a' ? fast : slow);
      const health = activeHealth(lists, probe, { ...options, timeoutMs: 10 });
      expectObservable(health, '^ 10ms !').toBe('-a-b-a---a', {
        a: { ...up('a'), healthy: true },
        b: { ...up('b'), healthy: true },
      });
      expectSubscriptions(slow.subscriptions).toBe(['^--!', '----^-!']);
      expectSubscriptions(fast.subscriptions).toBe(['^!', '----^!', '--------^!']);
    });
  });

  it('starts a backend removed and listed again with a fresh loop', () => {
    marbles(({ cold, expectObservable }) => {
      const lists = cold<readonly string[]>('l-m-l', { l: ['a'], m: [] });
      const answer = cold<ProbeResult>('-a|', { a: up('a') });
      expectObservable(
        activeHealth(lists, () => answer, options),
        '^ 8ms !',
      ).toBe('-x---y--', {
        x: { ...up('a'), healthy: true },
        y: { ...up('a'), healthy: false },
      });
    });
  });

  it('keeps probing the last list after the list stream completes', () => {
    marbles(({ cold, expectObservable }) => {
      const lists = cold<readonly string[]>('l|', { l: ['a'] });
      const answer = cold<ProbeResult>('-a|', { a: up('a') });
      expectObservable(
        activeHealth(lists, () => answer, options),
        '^ 10ms !',
      ).toBe('-a---a---a', {
        a: { ...up('a'), healthy: true },
      });
    });
  });

  it('passes an error of the list through and tears every loop down', () => {
    marbles(({ cold, expectObservable, expectSubscriptions }) => {
      const lists = cold<readonly string[]>('l--#', { l: ['a', 'b'] });
      const pending = cold<ProbeResult>('-');
      expectObservable(activeHealth(lists, () => pending, options)).toBe('---#');
      expectSubscriptions(pending.subscriptions).toBe(['^--!', '^--!']);
    });
  });

  it('unsubscribes the list and the probes in flight on teardown', () => {
    marbles(({ cold, expectObservable, expectSubscriptions }) => {
      const lists = cold<readonly string[]>('l-----m', { l: ['a'], m: ['a', 'b'] });
      const pending = cold<ProbeResult>('-');
      expectObservable(
        activeHealth(lists, () => pending, options),
        '^--!',
      ).toBe('---');
      expectSubscriptions(lists.subscriptions).toBe('^--!');
      expectSubscriptions(pending.subscriptions).toBe('^--!');
    });
  });
});
