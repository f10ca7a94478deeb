import { riseFall } from '../../src/operators/riseFall';
import { marbles } from '../helpers/marbles';

const up = { up: true };
const down = { up: false };
const values = { u: up, d: down };
const state = (probe: { up: boolean }, healthy: boolean) => ({ ...probe, healthy });

describe('riseFall', () => {
  it('takes a backend out after `fall` failures in a row and back after `rise` successes', () => {
    marbles(({ cold, expectObservable, expectSubscriptions }) => {
      const probes = cold('u-d-d-u-u-u|', values);
      expectObservable(probes.pipe(riseFall(2, 2))).toBe('a-b-c-d-e-f|', {
        a: state(up, true),
        b: state(down, true),
        c: state(down, false),
        d: state(up, false),
        e: state(up, true),
        f: state(up, true),
      });
      expectSubscriptions(probes.subscriptions).toBe('^----------!');
    });
  });

  it('with fall 1 goes down on the first failure (the default)', () => {
    marbles(({ cold, expectObservable }) => {
      expectObservable(cold('ud', values).pipe(riseFall(2, 1))).toBe('ab', {
        a: state(up, true),
        b: state(down, false),
      });
    });
  });

  it('needs the successes to be consecutive to rise', () => {
    marbles(({ cold, expectObservable }) => {
      expectObservable(cold('dudu', values).pipe(riseFall(2, 1))).toBe('abcd', {
        a: state(down, false),
        b: state(up, false),
        c: state(down, false),
        d: state(up, false),
      });
    });
  });

  it('a success between failures resets the fall count', () => {
    marbles(({ cold, expectObservable }) => {
      expectObservable(cold('dud', values).pipe(riseFall(1, 2))).toBe('abc', {
        a: state(down, true),
        b: state(up, true),
        c: state(down, true),
      });
    });
  });

  it('can start out of rotation', () => {
    marbles(({ cold, expectObservable }) => {
      expectObservable(cold('u', values).pipe(riseFall(1, 1, false))).toBe('a', {
        a: state(up, true),
      });
    });
  });

  it('keeps the extra fields of each probe', () => {
    marbles(({ cold, expectObservable }) => {
      const probe = { up: true, backend: 'server1', load: { cpu: 0.5 } };
      expectObservable(cold('a', { a: probe }).pipe(riseFall(2, 1))).toBe('a', {
        a: { ...probe, healthy: true },
      });
    });
  });

  it('mirrors never, empty and error', () => {
    marbles(({ cold, expectObservable }) => {
      expectObservable(cold<{ up: boolean }>('-').pipe(riseFall(2, 1))).toBe('-');
      expectObservable(cold<{ up: boolean }>('|').pipe(riseFall(2, 1))).toBe('|');
      expectObservable(cold<{ up: boolean }>('u#', values).pipe(riseFall(2, 1))).toBe('a#', {
        a: state(up, true),
      });
    });
  });

  it('keeps separate state per subscription and unsubscribes early', () => {
    marbles(({ cold, expectObservable, expectSubscriptions }) => {
      const probes = cold('d-d-d-d', values);
      const checked = probes.pipe(riseFall(1, 1));
      expectObservable(checked, '^--!').toBe('a-b', {
        a: state(down, false),
        b: state(down, false),
      });
      expectObservable(checked).toBe('a-b-c-d', {
        a: state(down, false),
        b: state(down, false),
        c: state(down, false),
        d: state(down, false),
      });
      expectSubscriptions(probes.subscriptions).toBe(['^--!', '^------']);
    });
  });
});
