import { normalizePath } from './normalizePath';
import {
  hostOf,
  type HostKind,
  type RouteCandidate,
  type RouteRule,
  type RouteTable,
} from './routeTable';

export interface ExplainedCandidate<R extends RouteRule> {
  readonly route: R;
  readonly hostKind: HostKind;
  /** The host entry that matched; none for a route without hosts. */
  readonly host: string | undefined;
  /** `chosen`, or why the chosen route comes before this one. */
  readonly why: string;
}

export interface RouteExplanation<R extends RouteRule> {
  /** The host as matched: lower case, without its port. */
  readonly host: string;
  /** The path as matched: normalised (RFC 3986 section 6), without the query. */
  readonly path: string;
  /** The route taken; undefined: none matches. */
  readonly route: R | undefined;
  /** Every route that matches, the chosen one first. */
  readonly candidates: readonly ExplainedCandidate<R>[];
}

const HOST_WORDS: Readonly<Record<HostKind, string>> = {
  exact: 'an exact host',
  wildcard: 'a wildcard host',
  any: 'no host',
};

function whyFirst<R extends RouteRule>(
  chosen: RouteCandidate<R>,
  other: RouteCandidate<R>,
): string {
  const chosenPriority = chosen.route.priority ?? 0;
  const otherPriority = other.route.priority ?? 0;
  if (chosenPriority !== otherPriority) {
    return `lower priority (${otherPriority} after ${chosenPriority})`;
  }
  if (chosen.hostKind !== other.hostKind) {
    return `${HOST_WORDS[other.hostKind]} comes after ${HOST_WORDS[chosen.hostKind]}`;
  }
  if (chosen.depth !== other.depth) {
    const prefix = (candidate: RouteCandidate<R>) => candidate.route.pathPrefix ?? '/';
    return `a shorter path_prefix (${prefix(other)} after ${prefix(chosen)})`;
  }
  return `a shorter wildcard (${other.host ?? ''} after ${chosen.host ?? ''})`;
}

/**
 * Which route a request for `hostHeader` and `target` takes and why: every matching route with
 * the rule that puts the chosen one before it (priority, then host kind, then prefix length).
 */
export function explainRoute<R extends RouteRule>(
  table: RouteTable<R>,
  hostHeader: string | undefined,
  target: string,
): RouteExplanation<R> {
  const normalized = normalizePath(target);
  const queryAt = normalized.indexOf('?');
  const path = queryAt < 0 ? normalized : normalized.slice(0, queryAt);
  const found = table.candidates(hostHeader, path);
  const chosen = found[0];
  return {
    host: hostOf(hostHeader),
    path,
    route: chosen?.route,
    candidates: found.map((candidate) => ({
      route: candidate.route,
      hostKind: candidate.hostKind,
      host: candidate.host,
      why: chosen === undefined || candidate === chosen ? 'chosen' : whyFirst(chosen, candidate),
    })),
  };
}
