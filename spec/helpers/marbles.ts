import { TestScheduler, type RunHelpers } from 'rxjs/testing';

/** Runs a marble test with jest's deep equality and virtual time. */
export function marbles<T>(callback: (helpers: RunHelpers) => T): T {
  const scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
  return scheduler.run(callback);
}
