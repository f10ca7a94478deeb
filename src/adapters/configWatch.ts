import { createHash } from 'node:crypto';
import { readFileSync, unwatchFile, watch, watchFile, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { Observable } from '../rx';

export interface ConfigWatchOptions {
  /** Quiet time after the last file-system event before the file is read. */
  readonly debounceMs?: number;
  /** Stat polling period where watching the folder fails. */
  readonly pollIntervalMs?: number;
  /**
   * The digest (fileDigest) of the content the running configuration was read from, taken before
   * that read: a change made before the watch began is then reported as soon as it begins.
   */
  readonly since?: string;
}

/** SHA-256 of the file's content; undefined when it cannot be read. */
export function fileDigest(path: string): string | undefined {
  try {
    return createHash('sha256').update(readFileSync(path)).digest('hex');
  } catch {
    return undefined;
  }
}

/**
 * Emits once each time the content of the file at `path` changes. The folder is watched, not the
 * file: editors replace files by renaming (the watched inode goes away), and Kubernetes swaps a
 * `..data` symlink for ConfigMaps. Events are debounced, and a change is reported only when the
 * content differs from what was last seen, so one save or one swap is one emission. Where
 * watching fails, the file is polled.
 */
export function watchConfigFile(path: string, options: ConfigWatchOptions = {}): Observable<void> {
  const debounceMs = options.debounceMs ?? 200;
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  return new Observable<void>((subscriber) => {
    let seen = fileDigest(path);
    let timer: NodeJS.Timeout | undefined;
    let watcher: FSWatcher | undefined;
    let polling = false;
    const name = basename(path);

    const check = () => {
      timer = undefined;
      const digest = fileDigest(path);
      if (digest === undefined || digest === seen) return;
      seen = digest;
      subscriber.next();
    };
    const soon = () => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(check, debounceMs);
    };
    const poll = () => {
      if (polling) return;
      polling = true;
      watcher?.close();
      watcher = undefined;
      watchFile(path, { interval: pollIntervalMs, persistent: false }, soon);
    };

    try {
      watcher = watch(dirname(path), { persistent: false }, (_event, file) => {
        // Unknown names (some platforms give none) and ConfigMap's `..data` swaps count too.
        if (file === null || file === name || String(file).startsWith('..')) soon();
      });
      watcher.on('error', poll);
    } catch {
      poll();
    }
    if (options.since !== undefined && options.since !== seen) {
      seen = options.since;
      soon();
    }

    return () => {
      if (timer) clearTimeout(timer);
      watcher?.close();
      if (polling) unwatchFile(path, soon);
    };
  });
}
