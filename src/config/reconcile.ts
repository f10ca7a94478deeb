import {
  ADMIN_KEYS,
  FRONTEND_KEYS,
  HOOKS_KEYS,
  POOL_KEYS,
  RATE_LIMIT_KEYS,
  SERVER_KEYS,
  changedKeys,
  sameValue,
  type AdminKey,
  type FrontendKey,
  type HooksKey,
  type PoolKey,
  type ServerKey,
} from './settingKeys';
import {
  poolsByName,
  type Config,
  type HooksConfig,
  type PoolConfig,
  type RouteConfig,
  type ServerConfig,
} from './types';

export type ServerCommand =
  | { readonly kind: 'add'; readonly pool: string; readonly server: ServerConfig }
  | {
      readonly kind: 'update';
      readonly pool: string;
      /** The new settings; `name` and `address` are those of `previous`. */
      readonly server: ServerConfig;
      readonly previous: ServerConfig;
      /** The per-server numbers that changed, as INI keys (`weight`, `max_workers`, ...). */
      readonly changed: readonly ServerKey[];
    }
  | { readonly kind: 'remove'; readonly pool: string; readonly server: ServerConfig };

export interface PoolChanges {
  readonly pool: string;
  /**
   * `added` / `removed`: the section appeared or disappeared (each of its servers also comes as
   * an `add` / `remove` command); `kept`: in both configs, with `settings` changed.
   */
  readonly presence: 'added' | 'removed' | 'kept';
  /** Pool-wide keys that changed; empty unless `kept`. Per-server numbers are in `update`s. */
  readonly settings: readonly PoolKey[];
}

/** `[route:NAME]` sections by name: new, gone, and written differently. */
export interface RouteChanges {
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly changed: readonly string[];
}

export interface ListenerChanges<K extends string> {
  readonly keys: readonly K[];
  /** `host` or `port` changed, so the listener must be bound anew (admin: or started, stopped). */
  readonly rebind: boolean;
}

export interface ConfigChanges {
  /**
   * By pool name (`http`, `websocket`, then `[pool:NAME]`s); each pool in server-number order;
   * `remove` before `add`.
   */
  readonly commands: readonly ServerCommand[];
  /** Only the pools that appeared, disappeared or changed a pool-wide key. */
  readonly pools: readonly PoolChanges[];
  readonly routes: RouteChanges;
  readonly frontend: ListenerChanges<FrontendKey>;
  /** The `[hooks]` keys that changed; empty when the section is the same. */
  readonly hooks: readonly HooksKey[];
  readonly admin: ListenerChanges<AdminKey>;
  /** The new file's path when the configuration came from another file, else undefined. */
  readonly file: string | undefined;
}

/**
 * Whether two configurations of a server reach it the same way: the address, and the scheme
 * and TLS settings, which change how it is reached as much as the address does.
 */
export function sameEndpoint(a: ServerConfig, b: ServerConfig): boolean {
  return a.address === b.address && sameValue(a.tls, b.tls);
}
const UNCHANGED = { keys: [], rebind: false } as const;

function serverCommands(
  pool: string,
  running: readonly ServerConfig[],
  next: readonly ServerConfig[],
): ServerCommand[] {
  const before = new Map(running.map((server) => [server.name, server]));
  const after = new Map(next.map((server) => [server.name, server]));
  const numbers = new Map([...running, ...next].map((server) => [server.name, server.number]));
  const names = [...numbers.keys()].sort((a, b) => (numbers.get(a) ?? 0) - (numbers.get(b) ?? 0));
  return names.flatMap((name): ServerCommand[] => {
    const old = before.get(name);
    const server = after.get(name);
    if (!server) return old ? [{ kind: 'remove', pool, server: old }] : [];
    if (!old) return [{ kind: 'add', pool, server }];
    if (!sameEndpoint(old, server)) {
      return [
        { kind: 'remove', pool, server: old },
        { kind: 'add', pool, server },
      ];
    }
    const changed = changedKeys(SERVER_KEYS, old, server);
    return changed.length > 0 ? [{ kind: 'update', pool, server, previous: old, changed }] : [];
  });
}

function poolChanges(
  pool: string,
  running: PoolConfig | undefined,
  next: PoolConfig | undefined,
): PoolChanges[] {
  if (!running) return next ? [{ pool, presence: 'added', settings: [] }] : [];
  if (!next) return [{ pool, presence: 'removed', settings: [] }];
  const settings = changedKeys(POOL_KEYS, running, next);
  return settings.length > 0 ? [{ pool, presence: 'kept', settings }] : [];
}

/** Server commands and pool notes, from nothing when `running` is undefined. */
function poolDiff(
  running: Config | undefined,
  next: Config,
): Pick<ConfigChanges, 'commands' | 'pools'> {
  const before = running ? poolsByName(running) : new Map<string, PoolConfig>();
  const after = poolsByName(next);
  const names = [...new Set([...before.keys(), ...after.keys()])];
  return {
    commands: names.flatMap((pool) =>
      serverCommands(pool, before.get(pool)?.servers ?? [], after.get(pool)?.servers ?? []),
    ),
    pools: names.flatMap((pool) => poolChanges(pool, before.get(pool), after.get(pool))),
  };
}

function routeChanges(running: readonly RouteConfig[], next: readonly RouteConfig[]): RouteChanges {
  const before = new Map(running.map((route) => [route.name, route]));
  const after = new Map(next.map((route) => [route.name, route]));
  return {
    added: next.filter((route) => !before.has(route.name)).map((route) => route.name),
    removed: running.filter((route) => !after.has(route.name)).map((route) => route.name),
    changed: next
      .filter((route) => before.has(route.name) && !sameValue(before.get(route.name), route))
      .map((route) => route.name),
  };
}

function hooksKeys(running: HooksConfig, next: HooksConfig): HooksKey[] {
  const keys: HooksKey[] = changedKeys(HOOKS_KEYS, running, next);
  if (running.rateLimit && next.rateLimit) {
    keys.push(...changedKeys(RATE_LIMIT_KEYS, running.rateLimit, next.rateLimit));
  } else if (running.rateLimit !== next.rateLimit) {
    keys.push('rate_limit');
  }
  return keys;
}

const movesListener = (keys: readonly string[]) => keys.includes('host') || keys.includes('port');
/** The front door's TLS and HTTP/2 settings and its redirect listener are bound with it. */
const FRONT_DOOR_KEYS = new Set(['redirect_http_port', 'http2', 'h2_max_concurrent_streams']);
const movesFrontend = (keys: readonly string[]) =>
  movesListener(keys) || keys.some((key) => key.startsWith('tls_') || FRONT_DOOR_KEYS.has(key));

/**
 * What it takes to go from the running config to the next one: add / update / remove commands
 * per pool by server name and address (TLS included), and the keys that changed everywhere else.
 */
export function reconcile(running: Config, next: Config): ConfigChanges {
  const frontend = changedKeys(FRONTEND_KEYS, running.frontend, next.frontend);
  const admin = changedKeys(ADMIN_KEYS, running.admin, next.admin);
  const adminListens = running.admin.port !== undefined || next.admin.port !== undefined;
  return {
    ...poolDiff(running, next),
    routes: routeChanges(running.routes, next.routes),
    frontend: { keys: frontend, rebind: movesFrontend(frontend) },
    hooks: hooksKeys(running.hooks, next.hooks),
    admin: { keys: admin, rebind: adminListens && movesListener(admin) },
    file: running.file === next.file ? undefined : next.file,
  };
}

/** The first config, compared with nothing: every pool `added`, every server an `add`. */
export function initialChanges(config: Config): ConfigChanges {
  return {
    ...poolDiff(undefined, config),
    routes: routeChanges([], config.routes),
    frontend: UNCHANGED,
    hooks: [],
    admin: UNCHANGED,
    file: undefined,
  };
}

export function hasChanges(changes: ConfigChanges): boolean {
  return (
    changes.commands.length > 0 ||
    changes.pools.length > 0 ||
    changes.routes.added.length + changes.routes.removed.length + changes.routes.changed.length >
      0 ||
    changes.frontend.keys.length > 0 ||
    changes.hooks.length > 0 ||
    changes.admin.keys.length > 0 ||
    changes.file !== undefined
  );
}
