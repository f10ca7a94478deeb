export interface BackoffSettings {
  /** The delay after a second quick death; it doubles with each further one. */
  readonly firstMs: number;
  readonly maxMs: number;
  /** A worker up this long has not crashed in a loop: its next death restarts at once. */
  readonly stableMs: number;
}

export const RESTART_BACKOFF: BackoffSettings = { firstMs: 1000, maxMs: 30_000, stableMs: 60_000 };

/**
 * How long to wait before replacing a worker that died after `upMs`, given the delay used for
 * the previous replacement in its slot (undefined: none yet). A first death, or one after a
 * stable run, is replaced at once; quick deaths in a row wait 1 s, 2 s, 4 s... up to 30 s.
 */
export function restartDelay(
  previousMs: number | undefined,
  upMs: number,
  settings: BackoffSettings = RESTART_BACKOFF,
): number {
  if (previousMs === undefined || upMs >= settings.stableMs) return 0;
  if (previousMs === 0) return settings.firstMs;
  return Math.min(previousMs * 2, settings.maxMs);
}
