import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Subscription } from 'rxjs';
import { fileDigest, watchConfigFile } from '../../src/adapters/configWatch';
import { sleep, waitUntil } from '../helpers/waitUntil';

/** Long enough for the watcher's debounce (50 ms here) and a slow file system. */
const SETTLE_MS = 400;

describe('watchConfigFile', () => {
  let folder: string;
  let subscription: Subscription | undefined;
  beforeEach(() => {
    folder = mkdtempSync(join(tmpdir(), 'rxproxy-watch-'));
  });
  afterEach(() => {
    subscription?.unsubscribe();
    rmSync(folder, { recursive: true, force: true });
  });

  function watchCounting(path: string, since?: string): { count: () => number } {
    let count = 0;
    const options = since === undefined ? { debounceMs: 50 } : { debounceMs: 50, since };
    subscription = watchConfigFile(path, options).subscribe(() => count++);
    return { count: () => count };
  }

  it('reports a change made between the reading and the start of the watch, once', async () => {
    const file = join(folder, 'proxy.ini');
    writeFileSync(file, 'a=1\n');
    const readFrom = fileDigest(file);
    writeFileSync(file, 'a=2\n');
    const seen = watchCounting(file, readFrom);
    await waitUntil(() => seen.count() === 1, 'the earlier change is seen', 3000);
    await sleep(SETTLE_MS);
    expect(seen.count()).toBe(1);
  });

  it('reports nothing at the start when the file is as it was read', async () => {
    const file = join(folder, 'proxy.ini');
    writeFileSync(file, 'a=1\n');
    const seen = watchCounting(file, fileDigest(file));
    await sleep(SETTLE_MS);
    expect(seen.count()).toBe(0);
  });

  it('reports an editor rename-write once', async () => {
    const file = join(folder, 'proxy.ini');
    writeFileSync(file, 'a=1\n');
    const seen = watchCounting(file);
    writeFileSync(join(folder, '.proxy.ini.swp'), 'a=2\n');
    renameSync(join(folder, '.proxy.ini.swp'), file);
    await waitUntil(() => seen.count() === 1, 'the change is seen', 3000);
    await sleep(SETTLE_MS);
    expect(seen.count()).toBe(1);
  });

  it('reports a ConfigMap-style ..data symlink swap once', async () => {
    const first = join(folder, '..2026_12_04_1');
    const second = join(folder, '..2026_12_04_2');
    mkdirSync(first);
    mkdirSync(second);
    writeFileSync(join(first, 'proxy.ini'), 'a=1\n');
    writeFileSync(join(second, 'proxy.ini'), 'a=2\n');
    symlinkSync('..2026_12_04_1', join(folder, '..data'));
    symlinkSync(join('..data', 'proxy.ini'), join(folder, 'proxy.ini'));
    const seen = watchCounting(join(folder, 'proxy.ini'));
    // What the kubelet does: a new symlink under a temporary name, renamed over ..data.
    symlinkSync('..2026_12_04_2', join(folder, '..data_tmp'));
    renameSync(join(folder, '..data_tmp'), join(folder, '..data'));
    await waitUntil(() => seen.count() === 1, 'the swap is seen', 3000);
    await sleep(SETTLE_MS);
    expect(seen.count()).toBe(1);
  });

  it('ignores writes that leave the content as it was, and other files', async () => {
    const file = join(folder, 'proxy.ini');
    writeFileSync(file, 'a=1\n');
    const seen = watchCounting(file);
    writeFileSync(file, 'a=1\n');
    writeFileSync(join(folder, 'other.txt'), 'x');
    await sleep(SETTLE_MS);
    expect(seen.count()).toBe(0);
    writeFileSync(file, 'a=3\n');
    await waitUntil(() => seen.count() === 1, 'the change is seen', 3000);
  });
});
