import { EMPTY, distinctUntilChanged, map, merge, switchMap, type Observable } from '../rx';

export type ReloadTrigger = 'SIGHUP' | 'watch';

export interface ReloadTriggerSources {
  /** One value per SIGHUP. */
  readonly hangups$: Observable<unknown>;
  /** Watches the configuration file while subscribed: one value per change of its content. */
  readonly watchFile: () => Observable<unknown>;
}

/**
 * What asks for a reload, by name: `SIGHUP` for each hang-up, and `watch` for each change of the
 * file while watching is on. `watching$` gives `watch_config` of each configuration in effect:
 * the watch starts when it turns on and stops when it turns off; a reload that leaves it as it
 * was keeps the watch it had.
 */
export function reloadTriggers(
  watching$: Observable<boolean>,
  sources: ReloadTriggerSources,
): Observable<ReloadTrigger> {
  const watch$ = watching$.pipe(
    distinctUntilChanged(),
    switchMap((on) => (on ? sources.watchFile() : EMPTY)),
    map((): ReloadTrigger => 'watch'),
  );
  return merge(sources.hangups$.pipe(map((): ReloadTrigger => 'SIGHUP')), watch$);
}
