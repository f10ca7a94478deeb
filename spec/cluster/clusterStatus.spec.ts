import { clusterReadiness, clusterStatus } from '../../src/cluster/clusterStatus';
import type { WorkerFigures } from '../../src/cluster/messages';
import type { LiveServer } from '../../src/observability/liveState';

const server = (inFlight: number, inRotation: boolean): LiveServer => ({
  pool: 'http',
  name: 'server1',
  address: '127.0.0.1:9001',
  staticWeight: 1,
  inRotation,
  effectiveWeight: inRotation ? 1 : 0,
  down: undefined,
  workers: { busy: inFlight, idle: 1, connecting: 0 },
  queueDepth: 0,
  inFlight,
  openWebSockets: 0,
});

const worker = (pid: number, inFlight: number, inRotation: boolean): WorkerFigures => ({
  pid,
  requestsInFlight: inFlight,
  ready: inRotation,
  reason: inRotation ? 'ready' : 'no backend in rotation',
  pools: [
    {
      name: 'http',
      algorithm: 'random',
      healthChecks: false,
      servers: [server(inFlight, inRotation)],
    },
  ],
});

describe('clusterStatus', () => {
  const figures = [worker(11, 2, true), worker(12, 3, false)];
  const status = clusterStatus(figures, {
    version: '1.0.0',
    configFile: '/etc/rxproxy.ini',
    startedAt: 0,
    now: 12_345,
    workers: 2,
    readiness: clusterReadiness(figures, false),
  });

  it('shows every worker as it sees itself', () => {
    expect(status.processes.map((figure) => figure.pid)).toEqual([11, 12]);
    expect(status.workers).toBe(2);
  });

  it('sums the figures over the workers', () => {
    expect(status.totals.requestsInFlight).toBe(5);
    expect(status.totals.servers).toEqual([
      {
        pool: 'http',
        name: 'server1',
        inFlight: 5,
        openWebSockets: 0,
        queueDepth: 0,
        connections: 7,
        inRotationIn: 1,
      },
    ]);
  });
});

describe('clusterReadiness', () => {
  it.each([
    [[worker(1, 0, true), worker(2, 0, false)], false, true, 'ready'],
    [[worker(1, 0, false)], false, false, 'no backend in rotation'],
    [[], false, false, 'no worker has started'],
    [[worker(1, 0, true)], true, false, 'shutting down'],
  ])('%#', (figures, stopping, ready, reason) => {
    expect(clusterReadiness(figures, stopping)).toEqual({ ready, reason });
  });
});
