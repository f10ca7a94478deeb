import type { Worker } from 'node:cluster';
import type { ToWorker } from '../../src/cluster/messages';
import { fromWire } from '../../src/cluster/snapshotWire';
import { ClusterHealth } from '../../src/composeClusterHealth';
import type { ProxyEvent } from '../../src/events';
import { configFromIni } from '../helpers/proxy';

const FRONTEND = `[frontend]\nhost=127.0.0.1\nport=8080\n`;
const INI = `${FRONTEND}[http]
max_fails=2
eject_time=30
server1=127.0.0.1:9
server2=127.0.0.1:10
[pool:api]
server1=127.0.0.1:11
`;

function primary(ini = INI) {
  const sent: Array<{ to: Worker | 'all'; message: ToWorker }> = [];
  const events: ProxyEvent[] = [];
  const health = new ClusterHealth(configFromIni(ini), {
    send: (to, message) => sent.push({ to, message }),
    broadcast: (message) => sent.push({ to: 'all', message }),
    emit: (event) => events.push(event),
  });
  const snapshots = (pool: string) =>
    sent.flatMap(({ message }) =>
      message.type === 'rxproxy:snapshot' && message.pool === pool
        ? [fromWire(message.snapshot)]
        : [],
    );
  return { health, sent, events, snapshots };
}

const worker = {} as Worker;

describe('ClusterHealth', () => {
  it('sends every pool’s first snapshot to all workers, and the latest to a worker that asks', async () => {
    const { health, sent, snapshots } = primary();
    expect(snapshots('http').map((snapshot) => snapshot.healthy)).toEqual([['server1', 'server2']]);
    expect(snapshots('api')).toHaveLength(1);
    sent.length = 0;
    health.watch(worker, 'api');
    health.watch(worker, 'nope');
    expect(sent.map(({ to, message }) => [to, message.type])).toEqual([
      [worker, 'rxproxy:snapshot'],
    ]);
    expect(sent[0]?.message).toHaveProperty('pool', 'api');
    await health.close();
  });

  it('ejects on the outcomes every worker reports and sends the new snapshot with its cause', async () => {
    const { health, events, snapshots } = primary();
    health.outcome('http', { backend: 'server2', ok: false, failure: 'response' });
    health.outcome('http', { backend: 'server2', ok: false, failure: 'response' });
    const latest = snapshots('http').at(-1);
    expect(latest?.healthy).toEqual(['server1']);
    expect(latest?.causes?.get('server2')).toEqual(
      expect.objectContaining({ cause: 'ejection', returnsAt: expect.any(Number) as number }),
    );
    expect(events).toEqual([
      expect.objectContaining({ type: 'health', pool: 'http', backend: 'server2', healthy: false }),
    ]);
    await health.close();
  });

  it('puts admin weights into the snapshots and follows reloads', async () => {
    const { health, snapshots } = primary();
    health.control('http', 'server1', { action: 'weight', weight: 5 });
    health.control('http', 'server1', { action: 'drain' });
    expect(snapshots('http').at(-1)?.weights.get('server1')).toBe(5);
    health.apply(configFromIni(`${FRONTEND}[http]\nserver3=127.0.0.1:12\n`));
    expect(snapshots('http').at(-1)?.backends).toEqual(['server3']);
    const before = snapshots('api').length;
    health.outcome('api', { backend: 'server1', ok: false });
    expect(snapshots('api')).toHaveLength(before);
    await health.close();
  });
});
