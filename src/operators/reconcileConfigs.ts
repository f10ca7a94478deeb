import { defer, map, type Observable, type OperatorFunction } from '../rx';
import type { Config } from '../config';
import { initialChanges, reconcile, type ConfigChanges } from '../config/reconcile';

export interface ReconciledConfig {
  readonly config: Config;
  /** The config this one replaces; undefined for the first, which starts everything. */
  readonly previous: Config | undefined;
  readonly changes: ConfigChanges;
}

/**
 * Pairs each config with the one before it and what changed between them. The first config is
 * compared with nothing: `previous` is undefined (the sign to bind listeners and load hooks)
 * and its changes add every pool and server, so one code path can build backends from either.
 * A config identical to the previous one still comes through, with empty changes, so that
 * every reload is answered with a `config-applied`.
 */
export function reconcileConfigs(): OperatorFunction<Config, ReconciledConfig> {
  return (source: Observable<Config>) =>
    defer(() => {
      let previous: Config | undefined;
      return source.pipe(
        map((config) => {
          const changes = previous ? reconcile(previous, config) : initialChanges(config);
          const reconciled = { config, previous, changes };
          previous = config;
          return reconciled;
        }),
      );
    });
}
