import { reconcile, type Config, type PoolConfig, type ServerConfig } from '../src/config';
import { ServerSet, type MemberLifecycle } from '../src/serverSet';
import { configFromIni, iniWith } from './helpers/proxy';

interface FakeMember {
  readonly id: number;
  readonly address: string;
}

/** A lifecycle that records what happened and lets the test end each drain. */
function recordingLifecycle() {
  let nextId = 1;
  const drains = new Map<FakeMember, () => void>();
  const cancelled: number[] = [];
  const destroyed: number[] = [];
  const lifecycle: MemberLifecycle<FakeMember> = {
    create: (server: ServerConfig) => ({ id: nextId++, address: server.address }),
    update: () => undefined,
    drain: (member, done) => {
      drains.set(member, done);
      return () => {
        drains.delete(member);
        cancelled.push(member.id);
      };
    },
    destroy: (member) => destroyed.push(member.id),
  };
  const endDrainOf = (member: FakeMember) => {
    const done = drains.get(member);
    drains.delete(member);
    done?.();
  };
  return { lifecycle, cancelled, destroyed, endDrainOf };
}

const configOf = (...servers: string[]): Config =>
  configFromIni(iniWith(['[http]', ...servers].join('\n')));
const httpOf = (config: Config): PoolConfig => {
  if (!config.http) throw new Error('no [http]');
  return config.http;
};

describe('ServerSet', () => {
  /** Applies each config after the first in turn; returns the set and what happened. */
  function through(configs: readonly Config[]) {
    const recorded = recordingLifecycle();
    const [first, ...rest] = configs;
    if (!first) throw new Error('no config');
    const set = new ServerSet(recorded.lifecycle, httpOf(first));
    const members = [...set.members];
    let running = first;
    for (const next of rest) {
      set.apply(reconcile(running, next).commands, httpOf(next));
      members.push(...set.members.filter((member) => !members.includes(member)));
      running = next;
    }
    return { set, members, ...recorded };
  }

  it('takes back a member re-added with its address while it drains', () => {
    const both = configOf('server1=10.0.0.1:80', 'server2=10.0.0.2:80');
    const { set, members, cancelled, destroyed } = through([
      both,
      configOf('server1=10.0.0.1:80'),
      both,
    ]);
    expect(set.members).toEqual(members);
    expect(cancelled).toEqual([2]);
    expect(destroyed).toEqual([]);
    expect(set.drainingMembers).toEqual([]);
  });

  it('destroys each member of one name whose address changed and was then removed', () => {
    const { set, members, endDrainOf, destroyed } = through([
      configOf('server1=10.0.0.1:80', 'server2=10.0.0.2:80'),
      configOf('server1=10.0.0.1:80', 'server2=10.0.0.3:80'),
      configOf('server1=10.0.0.1:80'),
    ]);
    const [, first, second] = members;
    if (!first || !second) throw new Error('expected three members');
    expect(set.drainingMembers).toEqual([first, second]);
    endDrainOf(first);
    endDrainOf(second);
    expect(destroyed).toEqual([first.id, second.id]);
    expect(set.drainingMembers).toEqual([]);
  });

  it('re-added with another address: a new member, while the old one drains on', () => {
    const { set, members, endDrainOf, destroyed, cancelled } = through([
      configOf('server1=10.0.0.1:80', 'server2=10.0.0.2:80'),
      configOf('server1=10.0.0.1:80'),
      configOf('server1=10.0.0.1:80', 'server2=10.0.0.3:80'),
    ]);
    const [, old, fresh] = members;
    if (!old || !fresh) throw new Error('expected three members');
    expect(set.get('server2')).toBe(fresh);
    expect(cancelled).toEqual([]);
    endDrainOf(old);
    expect(destroyed).toEqual([old.id]);
  });

  it('destroyAll cancels the drains and destroys every member', () => {
    const { set, cancelled, destroyed } = through([
      configOf('server1=10.0.0.1:80', 'server2=10.0.0.2:80'),
      configOf('server1=10.0.0.1:80'),
    ]);
    set.destroyAll();
    expect(cancelled).toEqual([2]);
    expect(destroyed.sort()).toEqual([1, 2]);
  });
});
