import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { cfsQuota, cgroupV2Path, cpuMaxQuota, type CpuFacts } from '../cluster/workerCount';

const CGROUP_ROOT = '/sys/fs/cgroup';

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** The CPU quota of this process's cgroup (v2 `cpu.max`, else v1 CFS), or undefined. */
export function readCpuQuota(root = CGROUP_ROOT): number | undefined {
  const own = cgroupV2Path(readText('/proc/self/cgroup') ?? '');
  const v2Files = [
    ...(own !== undefined && own !== '/' ? [join(root, own, 'cpu.max')] : []),
    join(root, 'cpu.max'),
  ];
  for (const file of v2Files) {
    const text = readText(file);
    if (text !== undefined) return cpuMaxQuota(text);
  }
  for (const folder of ['cpu', 'cpu,cpuacct', 'cpuacct,cpu']) {
    const quota = readText(join(root, folder, 'cpu.cfs_quota_us'));
    const period = readText(join(root, folder, 'cpu.cfs_period_us'));
    if (quota !== undefined && period !== undefined) return cfsQuota(quota, period);
  }
  return undefined;
}

/** The CPU quota and the available parallelism of this process, read now. */
export function readCpuFacts(): CpuFacts {
  return { quota: readCpuQuota(), parallelism: availableParallelism() };
}
