import { drainOutcome } from '../../src/streams/drainOutcome';
import { marbles } from '../helpers/marbles';

const drained = { drained: true, remaining: 0 };

describe('drainOutcome', () => {
  it('emits drained as soon as the count reaches zero', () => {
    marbles(({ cold, expectObservable, expectSubscriptions, time }) => {
      const timeout = time('----------|');
      const inFlight = cold('  a-b-c-d', { a: 3, b: 2, c: 1, d: 0 });
      const expected = '      ------(x|)';
      expectObservable(drainOutcome(inFlight, timeout)).toBe(expected, { x: drained });
      expectSubscriptions(inFlight.subscriptions).toBe('^-----!');
    });
  });

  it('emits drained at once when nothing is in flight', () => {
    marbles(({ cold, expectObservable }) => {
      expectObservable(drainOutcome(cold('a', { a: 0 }), 1000)).toBe('(x|)', { x: drained });
    });
  });

  it('gives up after the timeout, with the count still in flight', () => {
    marbles(({ cold, expectObservable, expectSubscriptions, time }) => {
      const timeout = time('-----|');
      const inFlight = cold('  a-b-------c', { a: 5, b: 4, c: 0 });
      const expected = '      -----(x|)';
      expectObservable(drainOutcome(inFlight, timeout)).toBe(expected, {
        x: { drained: false, remaining: 4 },
      });
      expectSubscriptions(inFlight.subscriptions).toBe('^----!');
    });
  });

  it('waits for the timeout when the count never arrives (never)', () => {
    marbles(({ cold, expectObservable, time }) => {
      const timeout = time('---|');
      expectObservable(drainOutcome(cold('-'), timeout)).toBe('---(x|)', {
        x: { drained: false, remaining: 0 },
      });
    });
  });

  it('waits for the timeout when the count completes without reaching zero (empty)', () => {
    marbles(({ cold, expectObservable, time }) => {
      const timeout = time('---|');
      expectObservable(drainOutcome(cold('a|', { a: 2 }), timeout)).toBe('---(x|)', {
        x: { drained: false, remaining: 2 },
      });
    });
  });

  it('passes an error through', () => {
    marbles(({ cold, expectObservable }) => {
      expectObservable(drainOutcome(cold('a-#', { a: 1 }), 1000)).toBe('--#');
    });
  });

  it('tears down the count and the timer on early unsubscription', () => {
    marbles(({ cold, expectObservable, expectSubscriptions }) => {
      const inFlight = cold('a---', { a: 2 });
      expectObservable(drainOutcome(inFlight, 1000), '^-!').toBe('---');
      expectSubscriptions(inFlight.subscriptions).toBe('^-!');
    });
  });
});
