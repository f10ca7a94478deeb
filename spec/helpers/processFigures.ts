import { readdirSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export interface ProcessFigures {
  /** Entries of /proc/self/fd: every socket, pipe and file this process holds open. */
  readonly fds: number;
  /** Resident set size after a full garbage collection, in bytes. */
  readonly rss: number;
  /** V8 heap in use after that collection, in bytes. */
  readonly heapUsed: number;
  /** V8 heap reserved, in use or not, in bytes: part of the resident size. */
  readonly heapTotal: number;
}

/**
 * A full collection before reading memory, so that two readings compare what is still
 * reachable rather than when the collector last ran. Jest gives no `--expose-gc`; the flag set
 * at run time makes `gc` available in a fresh context.
 */
function collector(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** Open descriptors and memory of this process (Linux: /proc/self/fd). */
export function processFigures(): ProcessFigures {
  collector()();
  const { rss, heapUsed, heapTotal } = process.memoryUsage();
  return { fds: readdirSync('/proc/self/fd').length, rss, heapUsed, heapTotal };
}

export const megabytes = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;
