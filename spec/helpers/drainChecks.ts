import type { SessionRecord } from './pingPong';

/** One removal of a server by a reload, on performance.now()'s clock. */
export interface Removal {
  /** When the reload that removed the server was called; the removal cannot come earlier. */
  readonly calledAt: number;
  /** When the reload that brought it back was called. */
  returnedAt: number;
}

/** For each session the proxy ended, ms from the call of the last removal before its close. */
export function closeDelays(
  ended: readonly SessionRecord[],
  removals: readonly Removal[],
): number[] {
  return ended.map((session) => {
    const closedAt = session.closedAt ?? Infinity;
    const removal = removals.filter((r) => r.calledAt < closedAt).at(-1);
    return removal ? closedAt - removal.calledAt : -1;
  });
}

/** Sessions open at a removal and still open when their server came back. */
export function outlivedDrain(sessions: readonly SessionRecord[], removals: readonly Removal[]) {
  return sessions.filter((session) =>
    removals.some(
      (removal) =>
        session.openedAt < removal.calledAt &&
        (session.closedAt ?? Infinity) > Math.min(removal.returnedAt, removal.calledAt + 5000),
    ),
  );
}

/** How many of the sessions the proxy ended it closed during each removal. */
export function closedPerRemoval(ended: readonly SessionRecord[], removals: readonly Removal[]) {
  return removals.map(
    (removal) =>
      ended.filter(
        (s) => (s.closedAt ?? 0) > removal.calledAt && (s.closedAt ?? 0) < removal.returnedAt,
      ).length,
  );
}
