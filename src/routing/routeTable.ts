/** A `[route:NAME]` section as the matcher needs it. */
export interface RouteRule {
  readonly name: string;
  /** Exact names and `*.domain` wildcards, lower case; empty: any host. */
  readonly hosts: readonly string[];
  /** Starts with `/`; undefined: every path. */
  readonly pathPrefix: string | undefined;
  /** Higher first; undefined counts as 0. */
  readonly priority: number | undefined;
}

/** How specific the host part of a match is: exact, then wildcard, then none. */
export type HostKind = 'exact' | 'wildcard' | 'any';

export interface RouteMatch<R extends RouteRule> {
  readonly route: R;
  readonly hostKind: HostKind;
  /** The host entry that matched (`api.example.com`, `*.example.com`), none for `any`. */
  readonly host: string | undefined;
}

const HOST_RANK: Readonly<Record<HostKind, number>> = { exact: 2, wildcard: 1, any: 0 };

/** Path segments of a prefix: `/api/v1` → `api`, `v1`; `/` → none. */
function segmentsOf(prefix: string): string[] {
  return prefix.split('/').filter((segment) => segment !== '');
}

/** A node of the prefix tree: the routes whose prefix ends here, best first. */
class PrefixNode<R extends RouteRule> {
  readonly children = new Map<string, PrefixNode<R>>();
  readonly routes: R[] = [];
}

const priorityOf = (route: RouteRule) => route.priority ?? 0;

/** One host bucket's routes in a segment tree; a match walks the path once. */
class PrefixTree<R extends RouteRule> {
  private readonly root = new PrefixNode<R>();

  add(route: R): void {
    let node = this.root;
    for (const segment of segmentsOf(route.pathPrefix ?? '/')) {
      let child = node.children.get(segment);
      if (!child) {
        child = new PrefixNode<R>();
        node.children.set(segment, child);
      }
      node = child;
    }
    node.routes.push(route);
    node.routes.sort((a, b) => priorityOf(b) - priorityOf(a));
  }

  /** Every route whose prefix `path` starts with (whole segments), shortest prefix first. */
  matching(path: string): { route: R; depth: number }[] {
    const found: { route: R; depth: number }[] = [];
    let node: PrefixNode<R> | undefined = this.root;
    let depth = 0;
    for (const segment of path.split('/')) {
      if (segment === '') continue;
      for (const route of node.routes) found.push({ route, depth });
      node = node.children.get(segment);
      if (!node) return found;
      depth++;
    }
    for (const route of node.routes) found.push({ route, depth });
    return found;
  }

  /** The route with the highest priority, then the longest prefix, over `path`'s segments. */
  best(path: string): { route: R; depth: number } | undefined {
    let found: { route: R; depth: number } | undefined;
    let node: PrefixNode<R> | undefined = this.root;
    let depth = 0;
    let start = path.charCodeAt(0) === 47 ? 1 : 0;
    for (;;) {
      const top = node.routes[0];
      if (top && (!found || priorityOf(top) >= priorityOf(found.route))) {
        found = { route: top, depth };
      }
      if (start >= path.length) break;
      let end = path.indexOf('/', start);
      if (end < 0) end = path.length;
      const segment = path.slice(start, end);
      start = end + 1;
      if (segment === '') continue;
      node = node.children.get(segment);
      if (!node) break;
      depth++;
    }
    return found;
  }
}

/** The path without its query. */
function barePath(path: string): string {
  const queryAt = path.indexOf('?');
  return queryAt < 0 ? path : path.slice(0, queryAt);
}

/** The host without its port, lower case; IPv6 literals keep their brackets. */
export function hostOf(hostHeader: string | undefined): string {
  if (!hostHeader) return '';
  const host = hostHeader.trim().toLowerCase();
  if (host.startsWith('[')) {
    const close = host.indexOf(']');
    return close < 0 ? host : host.slice(0, close + 1);
  }
  const colon = host.indexOf(':');
  const bare = colon < 0 ? host : host.slice(0, colon);
  return bare.endsWith('.') ? bare.slice(0, -1) : bare;
}

/**
 * Routes compiled once per configuration: a table of exact hosts, one of wildcard suffixes and
 * a bucket for routes without a host, each a prefix tree over path segments. A match looks at
 * most one exact bucket, one bucket per label of the host and the any-host bucket, and walks
 * each tree along the path once: its cost does not grow with the number of routes.
 *
 * Order: higher priority first; then exact host, wildcard host, no host; then the longest path
 * prefix; between two wildcards with the same prefix, the longer wildcard.
 */
export class RouteTable<R extends RouteRule> {
  private readonly exact = new Map<string, PrefixTree<R>>();
  /** By the suffix after `*.`: `example.com` for `*.example.com`. */
  private readonly wildcard = new Map<string, PrefixTree<R>>();
  private readonly anyHost = new PrefixTree<R>();
  private readonly hasWildcards: boolean;
  /** Some route names a host: the Host header must be read. */
  private readonly hasHosts: boolean;

  constructor(routes: readonly R[]) {
    for (const route of routes) {
      if (route.hosts.length === 0) this.anyHost.add(route);
      for (const host of route.hosts) {
        const wild = host.startsWith('*.');
        const table = wild ? this.wildcard : this.exact;
        const key = wild ? host.slice(2) : host;
        let tree = table.get(key);
        if (!tree) {
          tree = new PrefixTree<R>();
          table.set(key, tree);
        }
        tree.add(route);
      }
    }
    this.hasWildcards = this.wildcard.size > 0;
    this.hasHosts = this.hasWildcards || this.exact.size > 0;
  }

  /** `match`'s route alone, for the request path: the Host header is read only when a route names one. */
  route(hostHeader: string | undefined, path: string): R | undefined {
    return this.hasHosts
      ? this.match(hostHeader, path)?.route
      : this.anyHost.best(barePath(path))?.route;
  }

  /** The route for a request's Host header and normalised path, if any. */
  match(hostHeader: string | undefined, path: string): RouteMatch<R> | undefined {
    const host = hostOf(hostHeader);
    const bare = barePath(path);
    const best = new Candidate<R>();
    if (host !== '') {
      best.consider(this.exact.get(host), bare, 'exact', host);
      if (this.hasWildcards) {
        // Longest suffix first: a shorter wildcard wins only on priority or a longer prefix.
        for (let dot = host.indexOf('.'); dot >= 0; dot = host.indexOf('.', dot + 1)) {
          const suffix = host.slice(dot + 1);
          const tree = this.wildcard.get(suffix);
          if (tree) best.consider(tree, bare, 'wildcard', `*.${suffix}`);
        }
      }
    }
    best.consider(this.anyHost, bare, 'any', undefined);
    const route = best.route;
    return route && { route, hostKind: best.kind, host: best.host };
  }

  /** Every route the request matches, in the order of the rules: the first is `match`'s. */
  candidates(hostHeader: string | undefined, path: string): RouteCandidate<R>[] {
    const host = hostOf(hostHeader);
    const bare = barePath(path);
    const found: RouteCandidate<R>[] = [];
    const add = (tree: PrefixTree<R> | undefined, hostKind: HostKind, entry?: string) => {
      for (const { route, depth } of tree?.matching(bare) ?? []) {
        found.push({ route, hostKind, host: entry, depth });
      }
    };
    if (host !== '') {
      add(this.exact.get(host), 'exact', host);
      for (let dot = host.indexOf('.'); dot >= 0; dot = host.indexOf('.', dot + 1)) {
        const suffix = host.slice(dot + 1);
        add(this.wildcard.get(suffix), 'wildcard', `*.${suffix}`);
      }
    }
    add(this.anyHost, 'any');
    // Stable: a longer wildcard was added first and stays first among equals.
    return found.sort(
      (a, b) =>
        priorityOf(b.route) - priorityOf(a.route) ||
        HOST_RANK[b.hostKind] - HOST_RANK[a.hostKind] ||
        b.depth - a.depth,
    );
  }
}

/** A route a request matches, with what ranks it: for explaining a choice, not for routing. */
export interface RouteCandidate<R extends RouteRule> extends RouteMatch<R> {
  /** Path segments its prefix covers. */
  readonly depth: number;
}

/** The best match so far while the buckets of a request are looked at. */
class Candidate<R extends RouteRule> {
  route: R | undefined;
  depth = 0;
  kind: HostKind = 'any';
  host: string | undefined;

  consider(
    tree: PrefixTree<R> | undefined,
    path: string,
    kind: HostKind,
    host: string | undefined,
  ): void {
    const found = tree?.best(path);
    if (!found || !this.isBeatenBy(found.route, kind, found.depth)) return;
    this.route = found.route;
    this.depth = found.depth;
    this.kind = kind;
    this.host = host;
  }

  private isBeatenBy(route: R, kind: HostKind, depth: number): boolean {
    if (!this.route) return true;
    const priority = priorityOf(route) - priorityOf(this.route);
    if (priority !== 0) return priority > 0;
    const rank = HOST_RANK[kind] - HOST_RANK[this.kind];
    if (rank !== 0) return rank > 0;
    return depth > this.depth;
  }
}

/**
 * Pairs of routes no order can tell apart: the same priority, the same path prefix and an
 * overlapping host set (a host written in both, or neither has a host).
 */
export function routeTies(routes: readonly RouteRule[]): [string, string][] {
  const seen = new Map<string, string>();
  const ties: [string, string][] = [];
  for (const route of routes) {
    const prefix = `/${segmentsOf(route.pathPrefix ?? '/').join('/')}`;
    const keys = route.hosts.length === 0 ? [''] : route.hosts;
    const tiedWith = new Set<string>();
    for (const host of keys) {
      const key = `${priorityOf(route)}\u0000${host}\u0000${prefix}`;
      const other = seen.get(key);
      if (other !== undefined && !tiedWith.has(other)) {
        tiedWith.add(other);
        ties.push([other, route.name]);
      }
      if (other === undefined) seen.set(key, route.name);
    }
  }
  return ties;
}
