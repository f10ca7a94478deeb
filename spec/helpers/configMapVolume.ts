import { randomInt } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';

/** `..2026_12_07_10_21_20.`: the kubelet's prefix for a new timestamped folder (UTC). */
function timestampPrefix(now: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  const date = `${now.getUTCFullYear()}_${two(now.getUTCMonth() + 1)}_${two(now.getUTCDate())}`;
  const time = `${two(now.getUTCHours())}_${two(now.getUTCMinutes())}_${two(now.getUTCSeconds())}`;
  return `..${date}_${time}.`;
}

/**
 * Writes `files` into `folder` as the kubelet writes a ConfigMap volume (its atomic writer):
 * the files in a new timestamped folder (`..2026_12_07_10_21_20.1234567890`), a symlink
 * `..data_tmp` to it renamed over `..data` (the one atomic step), a symlink `KEY` ->
 * `..data/KEY` for each key not yet linked, then the previous timestamped folder removed.
 * The first call lays the volume out, each later one is an update of the ConfigMap.
 */
export function writeConfigMapVolume(folder: string, files: Record<string, string>): void {
  const dataLink = join(folder, '..data');
  const previous = existsSync(dataLink) ? readlinkSync(dataLink) : undefined;
  // Go's os.MkdirTemp, which the kubelet uses, ends the name with a random decimal number.
  const timestamped = `${timestampPrefix(new Date())}${randomInt(2 ** 32 - 1)}`;
  mkdirSync(join(folder, timestamped), { mode: 0o755 });
  for (const [key, text] of Object.entries(files)) {
    writeFileSync(join(folder, timestamped, key), text, { mode: 0o644 });
  }
  const tmpLink = join(folder, '..data_tmp');
  symlinkSync(timestamped, tmpLink);
  renameSync(tmpLink, dataLink);
  for (const key of Object.keys(files)) {
    if (!existsSync(join(folder, key))) symlinkSync(join('..data', key), join(folder, key));
  }
  if (previous !== undefined) rmSync(join(folder, previous), { recursive: true, force: true });
}
