import type { WorkersSetting } from '../config';

/**
 * The CPUs a cgroup v2 `cpu.max` allows (`"200000 100000"`: 2), or undefined when it sets no
 * limit (`"max 100000"`) or cannot be read.
 */
export function cpuMaxQuota(text: string): number | undefined {
  const [quota, period] = text.trim().split(/\s+/);
  if (quota === undefined || period === undefined) return undefined;
  return ratio(quota, period);
}

/**
 * The CPUs a cgroup v1 CFS quota allows (`cpu.cfs_quota_us` over `cpu.cfs_period_us`), or
 * undefined when the quota is `-1` (no limit) or either file cannot be read.
 */
export function cfsQuota(quotaText: string, periodText: string): number | undefined {
  return ratio(quotaText.trim(), periodText.trim());
}

function ratio(quota: string, period: string): number | undefined {
  if (!/^\d+$/.test(quota) || !/^\d+$/.test(period)) return undefined;
  const quotaUs = Number(quota);
  const periodUs = Number(period);
  if (quotaUs <= 0 || periodUs <= 0) return undefined;
  return quotaUs / periodUs;
}

/**
 * The cgroup v2 path of this process from `/proc/self/cgroup` (its `0::/path` line), or
 * undefined on a v1-only system.
 */
export function cgroupV2Path(procSelfCgroup: string): string | undefined {
  for (const line of procSelfCgroup.split('\n')) {
    if (line.startsWith('0::')) return line.slice(3).trim() || '/';
  }
  return undefined;
}

/** What the machine offers a process: a CPU quota when the container sets one, and its cores. */
export interface CpuFacts {
  /** CPUs the cgroup quota allows (may be fractional); undefined: no quota. */
  readonly quota: number | undefined;
  /** `os.availableParallelism()`, which on Node 20 ignores cgroup quotas. */
  readonly parallelism: number;
}

/**
 * The number of processes for `[frontend] workers`: the count written, or for `auto` the
 * quota rounded up (a 1.5-CPU quota gets 2 workers), else the available parallelism; at least 1.
 */
export function workerCount(setting: WorkersSetting, cpu: CpuFacts): number {
  if (setting !== 'auto') return setting;
  const count = cpu.quota === undefined ? cpu.parallelism : Math.ceil(cpu.quota);
  return Math.max(1, count);
}
