import type { OperatorFunction } from 'rxjs';
import { marbles } from './marbles';

/**
 * The six cases every map-like operator must pass: it mirrors never, empty, one and many
 * values, errors and never-ending sources, and unsubscribes from its source early. Each frame
 * gets its own `sample()` (operators mutate requests); `expected` says what one becomes.
 */
export function itMirrorsItsSource<In, Out>(
  operator: () => OperatorFunction<In, Out>,
  sample: () => In,
  expected: (input: In) => Out,
): void {
  const inputs = () => ({ a: sample(), b: sample(), c: sample() });
  const outputs = () => ({ a: expected(sample()), b: expected(sample()), c: expected(sample()) });
  const mirrors = (source: string, subscription: string) => () =>
    marbles(({ cold, expectObservable, expectSubscriptions }) => {
      const requests = cold(source, inputs());
      expectObservable(requests.pipe(operator())).toBe(source, outputs());
      expectSubscriptions(requests.subscriptions).toBe(subscription);
    });

  it('mirrors a source that never emits', mirrors('-', '^'));
  it('mirrors an empty source', mirrors('|', '(^!)'));
  it('passes a single value on', mirrors('a|', '^!'));
  it('passes multiple values on in order', mirrors('a-b 10s c|', '^-- 10s -!'));
  it('passes an error through', mirrors('a-#', '^-!'));
  it('keeps going with a never-ending source', mirrors('a 1m b 1m c', '^'));
  it('unsubscribes from its source early', () =>
    marbles(({ cold, expectObservable, expectSubscriptions }) => {
      const requests = cold('a-b-c|', inputs());
      expectObservable(requests.pipe(operator()), '^--!').toBe('a-b', outputs());
      expectSubscriptions(requests.subscriptions).toBe('^--!');
    }));
}
