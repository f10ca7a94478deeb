import { filter, map, of, shareReplay, startWith, type Observable } from 'rxjs';
import { loadConfigFile } from './adapters/configFile';
import { watchConfigFile } from './adapters/configWatch';
import { loadHookModule } from './adapters/hookModule';
import { fromSignals } from './adapters/processSignals';
import { formatProblem, type Config } from './config';
import type { LoadedConfig, Proxy } from './proxy';
import { reloadTriggers, type ReloadTrigger } from './streams/reloadTriggers';

/** Reads the file and its hook module afresh for a reload; problems are listed, not thrown. */
export async function readForReload(file: string, env: NodeJS.ProcessEnv): Promise<LoadedConfig> {
  const result = loadConfigFile(file, env);
  if (!result.ok) {
    const problems =
      'notFound' in result ? [`${file}: not found`] : result.problems.map(formatProblem);
    return { ok: false, problems };
  }
  const modulePath = result.config.hooks.module;
  try {
    const moduleHooks =
      modulePath === undefined ? undefined : await loadHookModule(modulePath, undefined, true);
    return { ok: true, config: result.config, ...(moduleHooks ? { moduleHooks } : {}) };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return {
      ok: false,
      problems: [formatProblem({ file, section: 'hooks', key: 'module', message })],
    };
  }
}

/** The configuration in effect: the proxy's first, then the one of each applied reload. */
export function appliedConfigs(proxy: Proxy): Observable<Config> {
  return proxy.events$.pipe(
    filter((event) => event.type === 'config-applied'),
    map(() => proxy.config),
    startWith(proxy.config),
    shareReplay({ bufferSize: 1, refCount: true }),
  );
}

/**
 * What asks the CLI to reload: SIGHUP, and with `watchable` a change of `file` while the
 * configuration in effect has `watch_config = true`.
 */
export function cliReloadTriggers(
  file: string,
  applied$: Observable<Config>,
  watchable: boolean,
): Observable<ReloadTrigger> {
  return reloadTriggers(
    watchable ? applied$.pipe(map((config) => config.frontend.watchConfig)) : of(false),
    { hangups$: fromSignals(['SIGHUP']), watchFile: () => watchConfigFile(file) },
  );
}
