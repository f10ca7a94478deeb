import { filter, map, of, shareReplay, startWith, type Observable } from './rx';
import { loadConfigFile } from './adapters/configFile';
import { fileDigest, watchConfigFile } from './adapters/configWatch';
import { loadHookModule } from './adapters/hookModule';
import { fromSignals } from './adapters/processSignals';
import { formatProblem, type Config } from './config';
import type { LoadedConfig, Proxy } from './proxy';
import { reloadTriggers, type ReloadTrigger } from './streams/reloadTriggers';

/**
 * The digest of the configuration file as it was just before its last reading (at start or for a
 * reload): a watch that begins later compares the file with it, so no change is missed.
 */
export class ReadDigest {
  private value: string | undefined;
  constructor(private readonly file: string) {}
  /** Call just before the file is read. */
  takeBeforeRead(): void {
    this.value = fileDigest(this.file);
  }
  get current(): string | undefined {
    return this.value;
  }
}

/** Reads the file and its hook module afresh for a reload; problems are listed, not thrown. */
export async function readForReload(
  file: string,
  env: NodeJS.ProcessEnv,
  digest?: ReadDigest,
): Promise<LoadedConfig> {
  digest?.takeBeforeRead();
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
  digest?: ReadDigest,
): Observable<ReloadTrigger> {
  const since = () => (digest?.current === undefined ? {} : { since: digest.current });
  return reloadTriggers(
    watchable ? applied$.pipe(map((config) => config.frontend.watchConfig)) : of(false),
    { hangups$: fromSignals(['SIGHUP']), watchFile: () => watchConfigFile(file, since()) },
  );
}
