import type { RouteConfig } from '../config';
import { explainRoute } from '../routing/explainRoute';
import type { RouteTable } from '../routing/routeTable';

/** The order `GET /routes` states, as docs/routing.md gives it. */
export const ROUTE_ORDER =
  'higher priority first; then an exact host, a wildcard host, no host; then the longest path_prefix';

const routeView = (route: RouteConfig) => ({
  name: route.name,
  hosts: route.hosts,
  pathPrefix: route.pathPrefix ?? null,
  stripPathPrefix: route.stripPathPrefix,
  pool: route.pool,
  websocketPool: route.websocketPool,
  priority: route.priority ?? null,
});

/** `GET /routes`: the routes as configured, and the default pools of what none takes. */
export function routesReport(routes: readonly RouteConfig[], defaults: readonly string[]) {
  return { order: ROUTE_ORDER, routes: routes.map(routeView), default: defaults };
}

/** `GET /routes/match?host=...&path=...`: the route a request would take, and why. */
export function routeMatchReport(
  table: RouteTable<RouteConfig>,
  host: string | undefined,
  path: string,
  defaults: readonly string[],
) {
  const explained = explainRoute(table, host, path);
  return {
    host: explained.host,
    path: explained.path,
    route: explained.route?.name ?? null,
    pool: explained.route ? explained.route.pool : (defaults[0] ?? null),
    websocketPool: explained.route ? explained.route.websocketPool : (defaults.at(-1) ?? null),
    candidates: explained.candidates.map((candidate) => ({
      route: candidate.route.name,
      hostKind: candidate.hostKind,
      host: candidate.host ?? null,
      pathPrefix: candidate.route.pathPrefix ?? null,
      priority: candidate.route.priority ?? null,
      why: candidate.why,
    })),
  };
}
