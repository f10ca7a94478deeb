import { of, type Observable } from '../rx';

/**
 * A pool's backends: a fixed list, or a stream of lists that changes while the pipeline runs.
 * The first list is the start-up list; later ones add and remove backends by name.
 */
export type BackendList<T> =
  | { readonly backends: readonly T[]; readonly backends$?: undefined }
  | { readonly backends$: Observable<readonly T[]>; readonly backends?: undefined };

/** The lists of a BackendList as one stream: a fixed list is a stream of that one list. */
export function backendLists<T>(list: BackendList<T>): Observable<readonly T[]> {
  return list.backends$ === undefined ? of(list.backends) : list.backends$;
}

type Named = string | { readonly name: string };

/**
 * Brings per-backend state keyed by name in line with a new list: the state of a backend no
 * longer listed is deleted (after `remove` saw it), a newly listed backend gets `add(item)`, and
 * the state of a backend that stays is left alone.
 */
export function followList<T extends Named, S>(
  states: Map<string, S>,
  list: readonly T[],
  add: (item: T) => S,
  remove?: (name: string, state: S) => void,
): void {
  const listed = new Set(list.map((item) => (typeof item === 'string' ? item : item.name)));
  for (const [name, state] of states) {
    if (listed.has(name)) continue;
    states.delete(name);
    remove?.(name, state);
  }
  for (const item of list) {
    const name = typeof item === 'string' ? item : item.name;
    if (!states.has(name)) states.set(name, add(item));
  }
}
