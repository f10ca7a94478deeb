import { routeTies } from '../routing/routeTable';
import type { RouteConfig } from './types';

type AddProblem = (section: string, key: string | undefined, message: string) => void;

export interface RouteSection {
  /** The keys that parsed, with their values. */
  readonly values: ReadonlyMap<string, unknown>;
  /** Every key written. */
  readonly given: ReadonlySet<string>;
}

/**
 * The `[route:NAME]` sections, each checked against the pools there are: a route naming an
 * unknown pool, a `strip_path_prefix` without `path_prefix`, and two routes no order can tell
 * apart (same priority, same prefix, an overlapping host) are problems.
 */
export function readRoutes(
  sections: ReadonlyMap<string, RouteSection>,
  poolNames: ReadonlySet<string>,
  add: AddProblem,
): RouteConfig[] {
  const routes: RouteConfig[] = [];
  /** Routes with a key that did not parse: their problem is listed, no tie is guessed for them. */
  const unreadable = new Set<string>();
  for (const [name, { values, given }] of sections) {
    if ([...given].some((key) => !values.has(key))) unreadable.add(name);
    const label = `route:${name}`;
    const pool = values.get('pool') as string | undefined;
    if (pool === undefined) {
      add(label, 'pool', 'is required (the pool for its HTTP requests)');
      continue;
    }
    const websocketPool = (values.get('websocket_pool') as string | undefined) ?? pool;
    for (const [key, value] of [
      ['pool', pool],
      ['websocket_pool', websocketPool],
    ] as const) {
      if (!poolNames.has(value) && (key === 'pool' || values.has(key))) {
        add(label, key, `names no pool "${value}" (${[...poolNames].join(', ')})`);
      }
    }
    if (pool === 'websocket' && poolNames.has('http')) {
      add(
        label,
        'pool',
        'the [websocket] pool takes WebSocket upgrades only: name it in websocket_pool',
      );
    }
    const pathPrefix = values.get('path_prefix') as string | undefined;
    const stripPathPrefix = (values.get('strip_path_prefix') as boolean | undefined) ?? false;
    if (stripPathPrefix && pathPrefix === undefined) {
      add(label, 'strip_path_prefix', 'needs path_prefix');
    }
    routes.push({
      name,
      hosts: (values.get('host') as readonly string[] | undefined) ?? [],
      pathPrefix,
      stripPathPrefix,
      pool,
      websocketPool,
      priority: values.get('priority') as number | undefined,
    });
  }
  for (const [first, second] of routeTies(routes.filter((route) => !unreadable.has(route.name)))) {
    add(
      `route:${second}`,
      undefined,
      `ties with [route:${first}]: the same priority, path_prefix and an overlapping host; give one a priority`,
    );
  }
  return routes;
}
