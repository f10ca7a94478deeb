// CPU time and memory of a process and all its descendants, read from /proc (Linux only).

import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';

/** Clock ticks per second, the unit of utime/stime in /proc/PID/stat. */
export const CLK_TCK = ((): number => {
  try {
    const value = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return value > 0 ? value : 100;
  } catch {
    return 100;
  }
})();

interface Stat {
  pid: number;
  ppid: number;
  /** utime and stime, in clock ticks (all threads of the process). */
  userTicks: number;
  systemTicks: number;
}

function readStat(pid: number): Stat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // Field 2 (comm) may contain spaces and parentheses: split after its closing parenthesis.
  // fields[0] is then field 3 (state), so field N is fields[N - 3].
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return {
    pid,
    ppid: Number(fields[1]),
    userTicks: Number(fields[11]),
    systemTicks: Number(fields[12]),
  };
}

/** The pid and every live descendant of it. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readStat(Number(name));
    if (!stat) continue;
    const list = children.get(stat.ppid) ?? [];
    list.push(stat.pid);
    children.set(stat.ppid, list);
  }
  const tree: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift() as number;
    tree.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return tree;
}

export interface CpuTimes {
  user: number;
  system: number;
}

/** CPU seconds in user and in kernel mode used so far by the process tree. */
export function cpuTimes(root: number): CpuTimes {
  let user = 0;
  let system = 0;
  for (const pid of processTree(root)) {
    const stat = readStat(pid);
    user += stat?.userTicks ?? 0;
    system += stat?.systemTicks ?? 0;
  }
  return { user: user / CLK_TCK, system: system / CLK_TCK };
}

/** CPU seconds (user + system) used so far by the process tree. */
export function cpuSeconds(root: number): number {
  const { user, system } = cpuTimes(root);
  return user + system;
}

function statusKiB(pid: number, key: 'VmRSS' | 'VmHWM'): number {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text);
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

/** Resident set size of the process tree now, KiB (VmRSS summed). */
export function rssKiB(root: number): number {
  return processTree(root).reduce((sum, pid) => sum + statusKiB(pid, 'VmRSS'), 0);
}

/** Peak resident set size of the process tree, KiB (VmHWM summed). */
export function peakRssKiB(root: number): number {
  return processTree(root).reduce((sum, pid) => sum + statusKiB(pid, 'VmHWM'), 0);
}

/**
 * Resets VmHWM to the current RSS for every process of the tree (writing 5 to clear_refs,
 * Linux 4.0+), so that the next peakRssKiB covers only what happened in between. Returns false
 * when that is not allowed: VmHWM is then the peak since each process started.
 */
export function resetPeakRss(root: number): boolean {
  let ok = true;
  for (const pid of processTree(root)) {
    try {
      writeFileSync(`/proc/${pid}/clear_refs`, '5');
    } catch {
      ok = false;
    }
  }
  return ok;
}
