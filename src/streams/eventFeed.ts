import { filter, map, type Observable } from '../rx';
import type { ProxyEvent, ProxyEventType } from '../events';

/** Every event type, for `/events?type=` validation. */
export const EVENT_TYPES: readonly ProxyEventType[] = [
  'listening',
  'tls-unverified',
  'certificate-reload',
  'certificate-expiring',
  'request',
  'client-error',
  'retry',
  'worker',
  'health',
  'health-check',
  'websocket-rejected',
  'websocket-open',
  'websocket-close',
  'queue',
  'internal-error',
  'config-applied',
  'config-rejected',
  'server-control',
  'draining',
  'stopped',
];

/** The types named in `?type=a,b` (all when empty), or the names that are no event type. */
export function parseEventTypes(
  query: string | null,
): { ok: true; types: ReadonlySet<string> | undefined } | { ok: false; unknown: string[] } {
  const names = (query ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  if (names.length === 0) return { ok: true, types: undefined };
  const unknown = names.filter((name) => !(EVENT_TYPES as readonly string[]).includes(name));
  return unknown.length > 0 ? { ok: false, unknown } : { ok: true, types: new Set(names) };
}

/**
 * The proxy's events as server-sent-event frames: `data: <JSON>` with the event and the time it
 * was sent, only the `types` asked for (all when undefined).
 */
export function eventFeed(
  events$: Observable<ProxyEvent>,
  types: ReadonlySet<string> | undefined,
  now: () => number = Date.now,
): Observable<string> {
  return events$.pipe(
    filter((event) => types === undefined || types.has(event.type)),
    map(
      (event) => `data: ${JSON.stringify({ ...event, time: new Date(now()).toISOString() })}\n\n`,
    ),
  );
}

/**
 * The admin listener's `/events` answer to a `?type=` query: the feed of the types asked for, or
 * the names that are no event type.
 */
export function eventFeedFor(
  events$: Observable<ProxyEvent>,
  query: string | null,
): Observable<string> | { readonly unknown: string[] } {
  const parsed = parseEventTypes(query);
  return parsed.ok ? eventFeed(events$, parsed.types) : { unknown: parsed.unknown };
}
