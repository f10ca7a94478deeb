import type { RouteRule } from '../../src/routing/routeTable';

/** A route for the matcher's tests: name, hosts, path prefix, priority. */
export const route = (
  name: string,
  hosts: string[] = [],
  pathPrefix?: string,
  priority?: number,
): RouteRule => ({ name, hosts, pathPrefix, priority });
