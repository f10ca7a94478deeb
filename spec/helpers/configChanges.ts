import type {
  Config,
  ConfigChanges,
  PoolKind,
  ServerCommand,
  ServerConfig,
} from '../../src/config';

/** What `reconcile` finds between two equal configs. */
export const NO_CHANGES: ConfigChanges = {
  commands: [],
  pools: [],
  routes: { added: [], removed: [], changed: [] },
  frontend: { keys: [], rebind: false },
  hooks: [],
  admin: { keys: [], rebind: false },
  file: undefined,
};

/** No changes but the given ones. */
export const only = (changes: Partial<ConfigChanges>): ConfigChanges => ({
  ...NO_CHANGES,
  ...changes,
});

export function serverOf(config: Config, name: string, pool: PoolKind = 'http'): ServerConfig {
  const found = config[pool]?.servers.find((server) => server.name === name);
  if (!found) throw new Error(`no ${name} in [${pool}]`);
  return found;
}

/** The `add` of a server as written in `config`. */
export const add = (config: Config, name: string, pool: PoolKind = 'http'): ServerCommand => ({
  kind: 'add',
  pool,
  server: serverOf(config, name, pool),
});

/** The `remove` of a server as written in `config`. */
export const remove = (config: Config, name: string, pool: PoolKind = 'http'): ServerCommand => ({
  kind: 'remove',
  pool,
  server: serverOf(config, name, pool),
});
