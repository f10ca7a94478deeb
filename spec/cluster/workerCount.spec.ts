import { cfsQuota, cgroupV2Path, cpuMaxQuota, workerCount } from '../../src/cluster/workerCount';

describe('cpuMaxQuota (cgroup v2 cpu.max)', () => {
  it.each([
    ['200000 100000\n', 2],
    ['150000 100000', 1.5],
    ['50000 100000', 0.5],
    ['max 100000\n', undefined],
    ['max', undefined],
    ['', undefined],
    ['0 100000', undefined],
    ['100000 0', undefined],
    ['-1 100000', undefined],
    ['abc def', undefined],
  ])('%j allows %p CPUs', (text, expected) => {
    expect(cpuMaxQuota(text)).toBe(expected);
  });
});

describe('cfsQuota (cgroup v1)', () => {
  it.each([
    ['200000\n', '100000\n', 2],
    ['250000', '100000', 2.5],
    ['-1\n', '100000\n', undefined],
    ['', '100000', undefined],
    ['100000', '', undefined],
  ])('quota %j over period %j allows %p CPUs', (quota, period, expected) => {
    expect(cfsQuota(quota, period)).toBe(expected);
  });
});

describe('cgroupV2Path', () => {
  it.each([
    ['0::/\n', '/'],
    ['0::/kubepods/pod1/abc\n', '/kubepods/pod1/abc'],
    ['4:memory:/x\n1:cpu:/\n0::/\n', '/'],
    ['4:memory:/x\n1:cpu:/\n', undefined],
    ['', undefined],
  ])('%j is %p', (text, expected) => {
    expect(cgroupV2Path(text)).toBe(expected);
  });
});

describe('workerCount', () => {
  it.each([
    [3, undefined, 8, 3],
    [1, 2, 8, 1],
    ['auto', undefined, 8, 8],
    ['auto', 2, 8, 2],
    ['auto', 1.5, 8, 2],
    ['auto', 0.25, 8, 1],
    ['auto', undefined, 0, 1],
    ['auto', 16, 4, 16],
  ] as const)('%p with quota %p and parallelism %p is %p', (setting, quota, parallelism, n) => {
    expect(workerCount(setting, { quota, parallelism })).toBe(n);
  });
});
