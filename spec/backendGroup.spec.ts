import { Subject } from 'rxjs';
import { BackendGroup, type RemoteHealth, type RemoteHealthNote } from '../src/backendGroup';
import type { ProxyEvent } from '../src/events';
import type { TrafficOutcome } from '../src/operators/outlierEjection';
import type { HealthySnapshot } from '../src/streams/healthySet';
import { configFromIni } from './helpers/proxy';

const INI = `[frontend]
host=127.0.0.1
port=8080
[http]
algorithm=round-robin
enable_health_check=true
server1=127.0.0.1:9
server2=127.0.0.1:10
`;

const member = (name: string) => ({ name, load: 0 });

function remoteGroup(ini = INI) {
  const pool = configFromIni(ini).http;
  if (!pool) throw new Error('no [http]');
  const notes = new Subject<RemoteHealthNote>();
  const watched: string[] = [];
  const reported: Array<[string, TrafficOutcome]> = [];
  const remote: RemoteHealth = {
    watch: (name) => {
      watched.push(name);
      return notes;
    },
    reportOutcome: (name, outcome) => reported.push([name, outcome]),
  };
  const events: ProxyEvent[] = [];
  const group = new BackendGroup(pool, [member('server1'), member('server2')], {
    emit: (event) => events.push(event),
    remote,
  });
  group.start();
  return { group, notes, watched, reported, events };
}

const only = (name: string): HealthySnapshot => ({
  backends: ['server1', 'server2'],
  healthy: [name],
  weights: new Map([[name, 1]]),
  down: new Map([[name === 'server1' ? 'server2' : 'server1', 'ejected']]),
});

describe('BackendGroup with remote health', () => {
  it('balances over the snapshots it receives and probes nothing itself', () => {
    const { group, notes, watched, events } = remoteGroup();
    expect(watched).toEqual(['http']);
    notes.next({ snapshot: only('server2') });
    expect([1, 2, 3].map(() => group.pick(undefined, undefined)?.name)).toEqual([
      'server2',
      'server2',
      'server2',
    ]);
    expect(group.isInRotation('server1')).toBe(false);
    notes.next({ snapshot: only('server1') });
    expect(group.pick(undefined, undefined)?.name).toBe('server1');
    expect(events.filter((event) => event.type === 'health')).toHaveLength(2);
    group.stop();
  });

  it('reports the probes it is told of as health-check events', () => {
    const { group, notes, events } = remoteGroup();
    notes.next({ probe: { backend: 'server1', up: false, healthy: true, reason: 'HTTP 503' } });
    expect(events).toEqual([
      {
        type: 'health-check',
        pool: 'http',
        backend: 'server1',
        up: false,
        healthy: true,
        latencyMs: 0,
        reason: 'HTTP 503',
      },
    ]);
    group.stop();
  });

  it('sends its traffic outcomes on: failures, and a success only after a failure', () => {
    const { group, reported } = remoteGroup();
    group.reportOutcome('server1', true);
    group.reportOutcome('server1', false, 'response');
    group.reportOutcome('server1', true);
    group.reportOutcome('server1', true);
    expect(reported).toEqual([
      ['http', { backend: 'server1', ok: false, failure: 'response' }],
      ['http', { backend: 'server1', ok: true }],
    ]);
    group.stop();
  });

  it('keeps drains its own over the snapshots', () => {
    const { group, notes } = remoteGroup();
    notes.next({
      snapshot: { ...only('server1'), healthy: ['server1', 'server2'], down: new Map() },
    });
    group.setDrained('server1', true);
    expect(group.pick(undefined, undefined)?.name).toBe('server2');
    group.stop();
  });
});
