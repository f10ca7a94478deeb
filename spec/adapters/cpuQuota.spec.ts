import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCpuQuota } from '../../src/adapters/cpuQuota';

describe('readCpuQuota', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'rxproxy-cgroup-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('reads cgroup v2 cpu.max', () => {
    writeFileSync(join(root, 'cpu.max'), '300000 100000\n');
    expect(readCpuQuota(root)).toBe(3);
  });

  it('finds no quota in an unlimited cpu.max', () => {
    writeFileSync(join(root, 'cpu.max'), 'max 100000\n');
    expect(readCpuQuota(root)).toBeUndefined();
  });

  it('reads the cgroup v1 CFS quota when there is no cpu.max', () => {
    mkdirSync(join(root, 'cpu'));
    writeFileSync(join(root, 'cpu', 'cpu.cfs_quota_us'), '150000\n');
    writeFileSync(join(root, 'cpu', 'cpu.cfs_period_us'), '100000\n');
    expect(readCpuQuota(root)).toBe(1.5);
  });

  it('finds no quota when no cgroup file exists', () => {
    expect(readCpuQuota(root)).toBeUndefined();
  });
});
