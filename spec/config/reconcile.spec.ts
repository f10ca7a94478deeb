import { parseConfigText } from '../../src/adapters/configFile';
import {
  KEY_SPECS,
  describeChanges,
  hasChanges,
  initialChanges,
  reconcile,
  type Config,
  type ConfigChanges,
  type PoolKey,
  type ServerKey,
} from '../../src/config';
import { POOL_KEYS, SERVER_KEYS, TLS_KEYS } from '../../src/config/settingKeys';
import { add, NO_CHANGES, only, remove, serverOf } from '../helpers/configChanges';
import { expectConfig } from '../helpers/configResult';
import { configFromIni } from '../helpers/proxy';

interface Sections {
  readonly frontend?: string;
  readonly http?: string;
  readonly websocket?: string;
  readonly hooks?: string;
  readonly admin?: string;
}

const HTTP = 'server1=127.0.0.1:9001\nserver2=127.0.0.1:9002';

/** A real config from INI text: `[frontend]` on 127.0.0.1:8080 plus the given sections. */
function config(sections: Sections = {}): Config {
  const { frontend = '', http = HTTP, websocket, hooks = '', admin = '' } = sections;
  const section = (name: string, body: string | undefined) =>
    body === undefined ? '' : `[${name}]\n${body}\n`;
  return configFromIni(
    `[frontend]\nhost=127.0.0.1\nport=8080\n${frontend}\n` +
      section('http', http === '' ? undefined : http) +
      section('websocket', websocket) +
      section('hooks', hooks) +
      section('admin', admin),
  );
}

describe('reconcile', () => {
  it('finds nothing between two parses of the same text', () => {
    const text = {
      frontend: 'trusted_proxies=10.0.0.0/8, ::1',
      http: `${HTTP}\nalgorithm=consistent-hash\nhash_key=header:X-User`,
      websocket: 'server1=127.0.0.1:9101',
      hooks: 'allow_from=192.168.0.0/16\nrate_limit=10/s\nrequest_header1=X-Env: prod',
      admin: 'port=9900\nmetrics_buckets=0.1, 1',
    };
    const running = config(text);
    const next = config(text);
    expect(next).not.toBe(running);
    const changes = reconcile(running, next);
    expect(changes).toEqual(NO_CHANGES);
    expect(hasChanges(changes)).toBe(false);
    expect(describeChanges(changes)).toBe('no changes');
  });

  it('leaves an unchanged server alone while others change', () => {
    const next = config({ http: `${HTTP}\nserver2_weight=4\nserver3=127.0.0.1:9003` });
    const names = reconcile(config(), next).commands.map((command) => command.server.name);
    expect(names).toEqual(['server2', 'server3']);
  });

  it.each<[ServerKey, string]>([
    ['weight', 'server1_weight=5'],
    ['min_workers', 'server1_min_workers=2'],
    ['max_workers', 'server1_max_workers=8'],
    ['worker_timeout', 'server1_worker_timeout=30'],
    ['buffer_size', 'server1_buffer_size=50'],
  ])('updates a server in place when its %s changes', (key, line) => {
    const running = config();
    const next = config({ http: `${HTTP}\n${line}` });
    expect(reconcile(running, next)).toEqual(
      only({
        commands: [
          {
            kind: 'update',
            pool: 'http',
            server: serverOf(next, 'server1'),
            previous: serverOf(running, 'server1'),
            changed: [key],
          },
        ],
      }),
    );
  });

  it('lists every changed number of a server, and applies pool-wide defaults per server', () => {
    const next = config({
      http: `${HTTP}\nmax_workers=6\nserver1_weight=2\nserver2_max_workers=3`,
    });
    const updates = reconcile(config(), next).commands.map((command) =>
      command.kind === 'update' ? [command.server.name, command.changed] : command.kind,
    );
    expect(updates).toEqual([['server1', ['weight', 'max_workers']]]);
    expect(reconcile(config(), next).pools).toEqual([]);
  });

  it('turns a changed address into a removal of the old server, then an addition', () => {
    const running = config();
    const next = config({
      http: 'server1=127.0.0.1:9001\nserver2=127.0.0.1:9202\nserver2_weight=3',
    });
    expect(reconcile(running, next).commands).toEqual([
      remove(running, 'server2'),
      add(next, 'server2'),
    ]);
    expect(describeChanges(reconcile(running, next))).toBe('http: server2 address');
  });

  it('turns a changed scheme into a removal and an addition, named tls', () => {
    const running = config();
    const next = config({ http: 'server1=127.0.0.1:9001\nserver2=https://127.0.0.1:9002' });
    expect(reconcile(running, next).commands).toEqual([
      remove(running, 'server2'),
      add(next, 'server2'),
    ]);
    expect(describeChanges(reconcile(running, next))).toBe('http: server2 tls');
    // https:// and wss:// both mean TLS: writing one for the other changes nothing.
    const wss = config({ http: 'server1=127.0.0.1:9001\nserver2=wss://127.0.0.1:9002' });
    expect(reconcile(next, wss)).toEqual(NO_CHANGES);
  });

  it('turns a change of tls_servername or tls_verify into a removal and an addition of each TLS server only', () => {
    const tls = 'server1=127.0.0.1:9001\nserver2=https://127.0.0.1:9002';
    const running = config({ http: tls });
    for (const key of ['tls_servername=backend.test', 'tls_verify=false']) {
      const next = config({ http: `${tls}\n${key}` });
      expect(reconcile(running, next)).toEqual(
        only({ commands: [remove(running, 'server2'), add(next, 'server2')] }),
      );
      expect(describeChanges(reconcile(running, next))).toBe('http: server2 tls');
    }
    // Plain servers do not use the keys.
    expect(reconcile(config(), config({ http: `${HTTP}\ntls_verify=false` }))).toEqual(NO_CHANGES);
  });

  it('removes a server whose name is gone and adds a new name, in server-number order', () => {
    const running = config({ http: `${HTTP}\nserver3=127.0.0.1:9003` });
    const next = config({ http: 'server1=127.0.0.1:9001\nserver4=b:1' });
    expect(reconcile(running, next).commands).toEqual([
      remove(running, 'server2'),
      remove(running, 'server3'),
      add(next, 'server4'),
    ]);
  });

  it('treats a pool that appears as every server added, with a pool note', () => {
    const next = config({ websocket: 'server1=127.0.0.1:9101\nserver2=127.0.0.1:9102' });
    expect(reconcile(config(), next)).toEqual(
      only({
        commands: [add(next, 'server1', 'websocket'), add(next, 'server2', 'websocket')],
        pools: [{ pool: 'websocket', presence: 'added', settings: [] }],
      }),
    );
  });

  it('treats a pool that disappears as every server removed, with a pool note', () => {
    const running = config({ websocket: 'server1=127.0.0.1:9101' });
    const next = config({ http: '', websocket: 'server1=127.0.0.1:9101' });
    expect(reconcile(running, next)).toEqual(
      only({
        commands: [remove(running, 'server1'), remove(running, 'server2')],
        pools: [{ pool: 'http', presence: 'removed', settings: [] }],
      }),
    );
    expect(describeChanges(reconcile(running, next))).toBe('http (removed): -server1, -server2');
  });

  it.each<[PoolKey, string]>([
    ['algorithm', 'algorithm=least-connections'],
    ['enable_health_check', 'enable_health_check=true'],
    ['health_check_interval', 'health_check_interval=3'],
    ['health_check_path', 'health_check_path=/ready'],
    ['health_check_rise', 'health_check_rise=5'],
    ['max_fails', 'max_fails=2'],
    ['eject_time', 'eject_time=5'],
    ['max_ejection_percent', 'max_ejection_percent=20'],
    ['hash_key', 'hash_key=header:X-User'],
    ['retries', 'retries=0'],
    ['connect_timeout', 'connect_timeout=1'],
    ['response_timeout', 'response_timeout=5'],
    ['request_buffer_size', 'request_buffer_size=0'],
  ])('reports a change of the pool-wide %s by its key', (key, line) => {
    const changes = reconcile(config(), config({ http: `${HTTP}\n${line}` }));
    expect(changes).toEqual(only({ pools: [{ pool: 'http', presence: 'kept', settings: [key] }] }));
  });

  it('compares pool settings that are objects by value', () => {
    const http = `${HTTP}\nhash_key=cookie:session`;
    expect(reconcile(config({ http }), config({ http })).pools).toEqual([]);
    const other = reconcile(config({ http }), config({ http: `${HTTP}\nhash_key=cookie:user` }));
    expect(other.pools).toEqual([{ pool: 'http', presence: 'kept', settings: ['hash_key'] }]);
  });

  it('names every pool-wide key of the schema, as a pool setting or a per-server number', () => {
    const poolKeys = KEY_SPECS.filter((spec) => spec.scope === 'pool').map((spec) => spec.key);
    const named = [
      ...Object.values(POOL_KEYS),
      ...Object.values(SERVER_KEYS),
      ...Object.values(TLS_KEYS),
    ];
    expect([...new Set(named)].sort()).toEqual([...new Set(poolKeys)].sort());
  });

  it('rebinds the front door when its host or port changes, not for other keys', () => {
    const port = reconcile(
      config(),
      configFromIni(`[frontend]\nhost=127.0.0.1\nport=8081\n[http]\n${HTTP}`),
    );
    expect(port.frontend).toEqual({ keys: ['port'], rebind: true });
    const host = reconcile(
      config(),
      configFromIni(`[frontend]\nhost=0.0.0.0\nport=8080\n[http]\n${HTTP}`),
    );
    expect(host.frontend).toEqual({ keys: ['host'], rebind: true });
    const other = reconcile(config(), config({ frontend: 'log_level=debug\ndrain_timeout=3' }));
    expect(other).toEqual(
      only({ frontend: { keys: ['log_level', 'drain_timeout'], rebind: false } }),
    );
  });

  it('compares address lists by value', () => {
    const before = config({ frontend: 'trusted_proxies=10.0.0.0/8' });
    const after = config({ frontend: 'trusted_proxies=10.0.0.0/16' });
    expect(reconcile(before, after).frontend).toEqual({ keys: ['trusted_proxies'], rebind: false });
  });

  it.each([
    ['module', 'module=/opt/hooks/a.js', 'module=/opt/hooks/b.js', ['module']],
    ['allow_from', 'allow_from=10.0.0.0/8', 'allow_from=10.0.0.0/8, ::1', ['allow_from']],
    ['a rate limit added', '', 'rate_limit=10/s', ['rate_limit']],
    ['a rate limit removed', 'rate_limit=10/s', '', ['rate_limit']],
    [
      'the rate',
      'rate_limit=10/s\nrate_limit_burst=5',
      'rate_limit=600/m\nrate_limit_burst=5',
      ['rate_limit'],
    ],
    [
      'the rate and so its burst',
      'rate_limit=10/s',
      'rate_limit=20/s',
      ['rate_limit', 'rate_limit_burst'],
    ],
    ['the burst', 'rate_limit=10/s', 'rate_limit=10/s\nrate_limit_burst=50', ['rate_limit_burst']],
    ['a header line', 'request_header1=X-A: 1', 'request_header1=X-A: 2', ['request_header']],
    ['the request id', '', 'request_id=true\nstrip_prefix=/api', ['request_id', 'strip_prefix']],
  ])('reports a change of [hooks] (%s) by its keys', (_case, before, after, keys) => {
    const changes = reconcile(config({ hooks: before }), config({ hooks: after }));
    expect(changes).toEqual(only({ hooks: keys as ConfigChanges['hooks'] }));
  });

  it.each([
    ['the listener appears', '', 'port=9900', ['port'], true],
    ['the listener goes', 'port=9900', '', ['port'], true],
    ['its port changes', 'port=9900', 'port=9901', ['port'], true],
    ['its host changes', 'port=9900', 'port=9900\nhost=0.0.0.0', ['host'], true],
    ['the host of no listener changes', '', 'host=0.0.0.0', ['host'], false],
    [
      'the token changes',
      'port=9900\ntoken=a-long-secret',
      'port=9900\ntoken=another-secret',
      ['token'],
      false,
    ],
    ['the buckets change', '', 'metrics_buckets=0.5, 2', ['metrics_buckets'], false],
  ])('reports [admin] when %s', (_case, before, after, keys, rebind) => {
    const changes = reconcile(config({ admin: before }), config({ admin: after }));
    expect(changes).toEqual(
      only({ admin: { keys: keys as ConfigChanges['admin']['keys'], rebind } }),
    );
  });

  it('reports a config read from another file', () => {
    const text = `[frontend]\nhost=127.0.0.1\nport=8080\n[http]\n${HTTP}`;
    const other = expectConfig(parseConfigText(text, 'other.ini', {}));
    expect(reconcile(configFromIni(text), other)).toEqual(only({ file: 'other.ini' }));
  });
});

describe('initialChanges', () => {
  it('adds every pool and every server of the first config', () => {
    const first = config({ websocket: 'server1=127.0.0.1:9101' });
    expect(initialChanges(first)).toEqual(
      only({
        commands: [
          add(first, 'server1'),
          add(first, 'server2'),
          add(first, 'server1', 'websocket'),
        ],
        pools: [
          { pool: 'http', presence: 'added', settings: [] },
          { pool: 'websocket', presence: 'added', settings: [] },
        ],
      }),
    );
  });
});

describe('describeChanges', () => {
  it('summarises servers, pool settings and sections on one line', () => {
    const running = config({ http: `${HTTP}\nserver3=127.0.0.1:9003` });
    const next = configFromIni(
      `[frontend]\nhost=127.0.0.1\nport=8081\n[http]\nalgorithm=round-robin\n` +
        'server1=127.0.0.1:9001\nserver1_weight=3\nserver1_max_workers=9\n' +
        'server3=127.0.0.1:9003\nserver4=127.0.0.1:9004\n' +
        '[websocket]\nserver1=127.0.0.1:9101\n[hooks]\nallow_from=10.0.0.0/8\n' +
        '[admin]\nport=9900\ntoken=a-long-secret',
    );
    expect(describeChanges(reconcile(running, next))).toBe(
      'http: server1 weight/max_workers, -server2, +server4, algorithm; ' +
        'websocket (added): +server1; frontend: port (rebind); hooks: allow_from; ' +
        'admin: port, token (rebind)',
    );
  });

  it('says that a change of workers needs a restart', () => {
    const next = config({ frontend: 'workers=4' });
    expect(describeChanges(reconcile(config(), next))).toBe('frontend: workers (needs a restart)');
  });

  it('names the new file', () => {
    const text = `[frontend]\nhost=127.0.0.1\nport=8080\n[http]\n${HTTP}`;
    const other = expectConfig(parseConfigText(text, '/etc/rxproxy/b.ini', {}));
    expect(describeChanges(reconcile(configFromIni(text), other))).toBe('file: /etc/rxproxy/b.ini');
  });
});

describe('reconcile with [pool:NAME] and [route:NAME] sections', () => {
  const withRoutes = (api: string, route: string, more = '') =>
    configFromIni(`[frontend]
host=127.0.0.1
port=8080
[http]
${HTTP}
[pool:api]
${api}
${more}
[route:api]
pool=api
${route}
`);

  it('gives a named pool its own commands and notes, by its name', () => {
    const running = withRoutes('server1=127.0.0.1:9201', 'path_prefix=/api');
    const next = withRoutes(
      'server1=127.0.0.1:9201\nserver2=127.0.0.1:9202\nalgorithm=least-connections',
      'path_prefix=/api',
    );
    const changes = reconcile(running, next);
    expect(
      changes.commands.map((command) => [command.kind, command.pool, command.server.name]),
    ).toEqual([['add', 'api', 'server2']]);
    expect(changes.pools).toEqual([{ pool: 'api', presence: 'kept', settings: ['algorithm'] }]);
    expect(describeChanges(changes)).toBe('api: +server2, algorithm');
  });

  it('lists routes added, removed and changed by name', () => {
    const running = withRoutes(
      'server1=127.0.0.1:9201',
      'path_prefix=/api',
      '[route:old]\npool=http\nhost=old.test',
    );
    const next = withRoutes(
      'server1=127.0.0.1:9201',
      'path_prefix=/v2',
      '[route:new]\npool=http\nhost=new.test',
    );
    const changes = reconcile(running, next);
    expect(changes.routes).toEqual({ added: ['new'], removed: ['old'], changed: ['api'] });
    expect(hasChanges(changes)).toBe(true);
    expect(describeChanges(changes)).toBe('routes: +new, -old, api');
  });

  it('adds and removes a whole named pool', () => {
    const running = withRoutes('server1=127.0.0.1:9201', '');
    const next = configFromIni(`[frontend]\nhost=127.0.0.1\nport=8080\n[http]\n${HTTP}\n`);
    const removed = reconcile(running, next);
    expect(removed.pools).toEqual([{ pool: 'api', presence: 'removed', settings: [] }]);
    expect(describeChanges(removed)).toBe('api (removed): -server1; routes: -api');
    expect(describeChanges(reconcile(next, running))).toBe('api (added): +server1; routes: +api');
  });
});
