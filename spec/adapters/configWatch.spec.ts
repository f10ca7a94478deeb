import { mkdtempSync, readdirSync, readlinkSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Subscription } from 'rxjs';
import { fileDigest, watchConfigFile } from '../../src/adapters/configWatch';
import { writeConfigMapVolume } from '../helpers/configMapVolume';
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

  it('reports a ConfigMap update (the kubelet swapping ..data) once', async () => {
    writeConfigMapVolume(folder, { 'rxproxy.ini': 'a=1\n' });
    const first = readlinkSync(join(folder, '..data'));
    // The kubelet's layout: rxproxy.ini -> ..data/rxproxy.ini, ..data -> ..2026_12_07_10_21_20.N
    expect(readlinkSync(join(folder, 'rxproxy.ini'))).toBe(join('..data', 'rxproxy.ini'));
    expect(first).toMatch(/^\.\.\d{4}_\d{2}_\d{2}_\d{2}_\d{2}_\d{2}\.\d+$/);
    const seen = watchCounting(join(folder, 'rxproxy.ini'));
    writeConfigMapVolume(folder, { 'rxproxy.ini': 'a=2\n' });
    expect(readdirSync(folder).sort()).toEqual(
      ['..data', readlinkSync(join(folder, '..data')), 'rxproxy.ini'].sort(),
    );
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
