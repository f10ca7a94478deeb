// Finding native tools and their versions.

import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Absolute path of an executable on PATH or in the sbin folders, or undefined. */
export function which(name: string): string | undefined {
  const dirs = [
    ...(process.env.PATH ?? '').split(delimiter),
    '/usr/sbin',
    '/usr/local/sbin',
    '/sbin',
  ];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** First line of `command args` (stdout or stderr) matching `pattern`, else ''. */
export function versionLine(command: string, args: string[], pattern: RegExp): string {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: 5000 });
  const text = `${result.stdout ?? ''}\n${result.stderr ?? ''}`;
  const match = pattern.exec(text);
  return match ? (match[1] ?? match[0]).trim() : '';
}

/** The hard limit on open files that children can raise their soft limit to. */
export function hardOpenFilesLimit(): number {
  const result = spawnSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' });
  const text = (result.stdout ?? '').trim();
  if (text === 'unlimited') return 1_048_576;
  const value = Number(text);
  return Number.isFinite(value) && value > 0 ? value : 1024;
}

/** Path inside bench/node_modules, where `npm run bench` installs the benchmark's peers. */
export function peerModulePath(root: string, ...parts: string[]): string {
  return join(root, 'bench', 'node_modules', ...parts);
}
