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

type Collect = (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;

/**
 * Full collections before reading memory, so that two readings compare what is still reachable
 * rather than when the collector last ran. The last-resort one also gives free heap pages back,
 * as V8 does when memory runs short: without it the resident size carries whatever heap V8
 * reserved under load (up to 80 MB more at one reading than at the other). Alone it left up to
 * 20 MB of garbage counted as in use, hence a regular one on either side. Jest gives no
 * `--expose-gc`; the flag set at run time makes `gc` available in a fresh context.
 */
function collect(): void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as Collect & (() => void);
  gc();
  gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  gc();
}

/** Open descriptors and memory of this process (Linux: /proc/self/fd). */
export function processFigures(): ProcessFigures {
  collect();
  const { rss, heapUsed, heapTotal } = process.memoryUsage();
  return { fds: readdirSync('/proc/self/fd').length, rss, heapUsed, heapTotal };
}

export const megabytes = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;
