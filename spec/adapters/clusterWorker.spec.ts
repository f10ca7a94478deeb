import { firstValueFrom, toArray, take } from 'rxjs';
import {
  answerPrimary,
  ipcRemoteHealth,
  reloadOrders,
  type PrimaryChannel,
} from '../../src/adapters/clusterWorker';
import { toWire } from '../../src/cluster/snapshotWire';
import type { HealthySnapshot } from '../../src/streams/healthySet';
import type { ToPrimary, ToWorker } from '../../src/cluster/messages';
import type { ProxyStatus } from '../../src/observability/statusReport';
import { FakeLiveState, liveServer } from '../helpers/fakeLiveState';

/** A channel whose sent messages are recorded and whose incoming ones the test delivers. */
function fakeChannel() {
  const listeners = new Set<(message: unknown) => void>();
  const sent: ToPrimary[] = [];
  const channel: PrimaryChannel = {
    send: (message) => sent.push(message),
    on: (listener) => listeners.add(listener),
    off: (listener) => listeners.delete(listener),
  };
  const deliver = (message: ToWorker | { type: string }) => {
    for (const listener of [...listeners]) listener(message);
  };
  return { channel, sent, deliver, listeners };
}

const snapshot: HealthySnapshot = {
  backends: ['server1', 'server2'],
  healthy: ['server1'],
  weights: new Map([['server1', 2]]),
  down: new Map([['server2', 'ejected']]),
  causes: new Map([['server2', { cause: 'ejection', returnsAt: 1_000 }]]),
};

describe('ipcRemoteHealth', () => {
  it('asks for a pool’s snapshot and takes the primary’s snapshots and probes of that pool only', async () => {
    const { channel, sent, deliver, listeners } = fakeChannel();
    const health = ipcRemoteHealth(channel);
    const notes = firstValueFrom(health.watch('http').pipe(take(2), toArray()));
    expect(sent).toEqual([{ type: 'rxproxy:health-watch', pool: 'http' }]);
    deliver({ type: 'rxproxy:snapshot', pool: 'api', snapshot: toWire(snapshot) });
    deliver({ type: 'rxproxy:snapshot', pool: 'http', snapshot: toWire(snapshot) });
    const probe = { backend: 'server1', up: true, healthy: true, latencyMs: 3 };
    deliver({ type: 'rxproxy:health-check', pool: 'http', result: probe });
    await expect(notes).resolves.toEqual([{ snapshot }, { probe }]);
    expect(listeners.size).toBe(0);
  });

  it('keeps one listener on the channel for every watch', () => {
    const { channel, listeners } = fakeChannel();
    const health = ipcRemoteHealth(channel);
    const watches = ['a', 'b', 'c'].map((pool) => health.watch(pool).subscribe());
    expect(listeners.size).toBe(1);
    for (const watch of watches) watch.unsubscribe();
    expect(listeners.size).toBe(0);
  });

  it('sends outcomes to the primary and ignores messages that are not its own', () => {
    const { channel, sent, deliver } = fakeChannel();
    const health = ipcRemoteHealth(channel);
    const watch = health.watch('http').subscribe();
    expect(() => deliver({ type: 'prom-client:getMetricsReq' })).not.toThrow();
    health.reportOutcome('http', { backend: 'server1', ok: false, failure: 'response' });
    expect(sent[1]).toEqual({
      type: 'rxproxy:outcome',
      pool: 'http',
      outcome: { backend: 'server1', ok: false, failure: 'response' },
    });
    watch.unsubscribe();
  });
});

describe('reloadOrders and answerPrimary', () => {
  it('turns reload orders into triggers', async () => {
    const { channel, deliver, listeners } = fakeChannel();
    const triggers = firstValueFrom(reloadOrders(channel).pipe(take(1)));
    deliver({ type: 'rxproxy:reload', trigger: 'SIGHUP' });
    await expect(triggers).resolves.toBe('SIGHUP');
    expect(listeners.size).toBe(0);
  });

  const asks = (control = jest.fn()) => ({
    live: new FakeLiveState([liveServer('http', 'server1')]),
    control,
    status: () => ({ configFile: '/etc/rxproxy.ini' }) as unknown as ProxyStatus,
  });

  it('answers status asks and applies control orders until unsubscribed', () => {
    const { channel, sent, deliver, listeners } = fakeChannel();
    const control = jest.fn();
    const answering = answerPrimary(channel, asks(control));
    deliver({ type: 'rxproxy:status', id: 7 });
    expect(sent).toEqual([
      expect.objectContaining({
        type: 'rxproxy:status-result',
        id: 7,
        figures: expect.objectContaining({ pid: process.pid }) as unknown,
        status: expect.objectContaining({ configFile: '/etc/rxproxy.ini' }) as unknown,
      }),
    ]);
    deliver({
      type: 'rxproxy:control',
      pool: 'http',
      server: 'server1',
      command: { action: 'drain' },
    });
    expect(control).toHaveBeenCalledWith('http', 'server1', { action: 'drain' });
    answering.unsubscribe();
    expect(listeners.size).toBe(0);
  });
});
