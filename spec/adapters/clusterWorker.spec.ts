import { firstValueFrom, toArray, take } from 'rxjs';
import {
  answerPrimary,
  IpcProbes,
  ipcOutcomeRelay,
  reloadOrders,
  type PrimaryChannel,
} from '../../src/adapters/clusterWorker';
import type { ProbeKey } from '../../src/adapters/sharedProbes';
import type { ToPrimary, ToWorker } from '../../src/cluster/messages';
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

const key: ProbeKey = {
  origin: 'http://127.0.0.1:9001',
  tls: undefined,
  path: '/healthCheck',
  intervalMs: 1000,
  timeoutMs: 500,
};

describe('IpcProbes', () => {
  it('asks the primary and answers under the caller’s backend name', async () => {
    const { channel, sent, deliver, listeners } = fakeChannel();
    const probes = new IpcProbes(channel);
    const result = firstValueFrom(probes.probe({}, key, 'server1'));
    expect(sent).toEqual([{ type: 'rxproxy:probe', id: 1, key, backend: 'server1' }]);
    deliver({ type: 'rxproxy:probe-result', id: 1, result: { backend: 'x', up: true } });
    await expect(result).resolves.toEqual({ backend: 'server1', up: true });
    probes.close();
    expect(listeners.size).toBe(0);
  });

  it('tells the primary when nobody waits for a probe any more', () => {
    const { channel, sent } = fakeChannel();
    const probes = new IpcProbes(channel);
    probes.probe({}, key, 'server1').subscribe().unsubscribe();
    expect(sent.map((message) => message.type)).toEqual(['rxproxy:probe', 'rxproxy:probe-cancel']);
    probes.close();
  });

  it('ignores messages that are not its own', () => {
    const { channel, deliver } = fakeChannel();
    const probes = new IpcProbes(channel);
    expect(() => deliver({ type: 'prom-client:getMetricsReq' })).not.toThrow();
    probes.close();
  });
});

describe('ipcOutcomeRelay', () => {
  it('sends outcomes and receives the other workers’ for one pool; unsubscribing removes the listener', async () => {
    const { channel, sent, deliver, listeners } = fakeChannel();
    const relay = ipcOutcomeRelay(channel);
    relay.send('http', { backend: 'server1', ok: false, failure: 'response' });
    expect(sent).toEqual([
      {
        type: 'rxproxy:outcome',
        pool: 'http',
        outcome: { backend: 'server1', ok: false, failure: 'response' },
      },
    ]);
    const received = firstValueFrom(relay.received('http').pipe(take(1), toArray()));
    deliver({ type: 'rxproxy:outcome', pool: 'api', outcome: { backend: 'a', ok: false } });
    deliver({ type: 'rxproxy:outcome', pool: 'http', outcome: { backend: 'b', ok: false } });
    await expect(received).resolves.toEqual([{ backend: 'b', ok: false }]);
    expect(listeners.size).toBe(0);
    const pools = ['a', 'b', 'c'].map((pool) => relay.received(pool).subscribe());
    expect(listeners.size).toBe(1);
    for (const subscription of pools) subscription.unsubscribe();
    expect(listeners.size).toBe(0);
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

  it('answers status asks and applies control orders until unsubscribed', () => {
    const { channel, sent, deliver, listeners } = fakeChannel();
    const control = jest.fn();
    const answering = answerPrimary(channel, {
      live: new FakeLiveState([liveServer('http', 'server1')]),
      control,
    });
    deliver({ type: 'rxproxy:status', id: 7 });
    expect(sent).toEqual([
      expect.objectContaining({
        type: 'rxproxy:status-result',
        id: 7,
        figures: expect.objectContaining({ pid: process.pid }) as unknown,
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
