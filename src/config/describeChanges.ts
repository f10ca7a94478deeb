import type { ConfigChanges, ListenerChanges, ServerCommand } from './reconcile';

/**
 * `+server3`, `-server2`, `server1 weight/max_workers`; a remove then add of one name is
 * `server1 address`, or `server1 tls` when only its scheme or TLS settings changed.
 */
function serverItems(commands: readonly ServerCommand[]): string[] {
  const items: string[] = [];
  commands.forEach((command, index) => {
    const name = command.server.name;
    const before = commands[index - 1];
    if (command.kind === 'update') {
      items.push(`${name} ${command.changed.join('/')}`);
    } else if (command.kind === 'remove') {
      items.push(`-${name}`);
    } else if (before?.kind === 'remove' && before.server.name === name) {
      const what = before.server.address === command.server.address ? 'tls' : 'address';
      items[items.length - 1] = `${name} ${what}`;
    } else {
      items.push(`+${name}`);
    }
  });
  return items;
}

function poolPart(changes: ConfigChanges, pool: string): string | undefined {
  const note = changes.pools.find((candidate) => candidate.pool === pool);
  const items = [
    ...serverItems(changes.commands.filter((command) => command.pool === pool)),
    ...(note?.settings ?? []),
  ];
  if (items.length === 0 && !note) return undefined;
  const label = note && note.presence !== 'kept' ? `${pool} (${note.presence})` : pool;
  return `${label}: ${items.join(', ')}`;
}

/** Keys a reload cannot apply: the running process keeps its value until it restarts. */
const RESTART_KEYS: ReadonlySet<string> = new Set(['workers']);

function listenerPart(section: string, changes: ListenerChanges<string>): string | undefined {
  if (changes.keys.length === 0) return undefined;
  const keys = changes.keys.map((key) =>
    RESTART_KEYS.has(key) ? `${key} (needs a restart)` : key,
  );
  return `${section}: ${keys.join(', ')}${changes.rebind ? ' (rebind)' : ''}`;
}

/**
 * One line for logs and the `config-applied` event, e.g.
 * `http: +server3, -server2, server1 weight, algorithm; frontend: port (rebind)` or `no changes`.
 * Names keys only, never values (the admin token stays out of logs).
 */
export function describeChanges(changes: ConfigChanges): string {
  const poolNames = new Set([
    ...changes.commands.map((command) => command.pool),
    ...changes.pools.map((note) => note.pool),
  ]);
  const routes = [
    ...changes.routes.added.map((name) => `+${name}`),
    ...changes.routes.removed.map((name) => `-${name}`),
    ...changes.routes.changed,
  ];
  const parts = [
    ...[...poolNames].map((pool) => poolPart(changes, pool)),
    routes.length > 0 ? `routes: ${routes.join(', ')}` : undefined,
    listenerPart('frontend', changes.frontend),
    changes.hooks.length > 0 ? `hooks: ${changes.hooks.join(', ')}` : undefined,
    listenerPart('admin', changes.admin),
    changes.file === undefined ? undefined : `file: ${changes.file}`,
  ].filter((part) => part !== undefined);
  return parts.length === 0 ? 'no changes' : parts.join('; ');
}
