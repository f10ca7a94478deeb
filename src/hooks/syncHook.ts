import { map, type OperatorFunction } from '../rx';

/** A hook that also offers its work as a plain function, so the runner can skip the stream. */
export type SyncHook<T, R> = OperatorFunction<T, R> & { readonly step: (value: T) => R };

/**
 * An operator that maps each value synchronously with `step`. Inside a user's own pipe it is a
 * plain `map`; the proxy's hook runner calls `step` directly, without a subscription.
 */
export function syncHook<T, R>(step: (value: T) => R): SyncHook<T, R> {
  return Object.assign(map(step), { step });
}

export function hasStep<T, R>(hook: OperatorFunction<T, R>): hook is SyncHook<T, R> {
  return typeof (hook as Partial<SyncHook<T, R>>).step === 'function';
}
