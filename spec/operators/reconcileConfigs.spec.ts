import type { Config, PoolChanges, ServerCommand } from '../../src/config';
import { reconcileConfigs, type ReconciledConfig } from '../../src/operators/reconcileConfigs';
import { add, only, remove, serverOf } from '../helpers/configChanges';
import { marbles } from '../helpers/marbles';
import { configFromIni } from '../helpers/proxy';

const withServers = (servers: string) =>
  configFromIni(`[frontend]\nhost=127.0.0.1\nport=8080\n[http]\n${servers}`);

/** a: two servers; b: a third added; c: server2 gone, server1 heavier; d: server1 moved. */
const a = withServers('server1=127.0.0.1:9001\nserver2=127.0.0.1:9002');
const b = withServers('server1=127.0.0.1:9001\nserver2=127.0.0.1:9002\nserver3=127.0.0.1:9003');
const c = withServers('server1=127.0.0.1:9001\nserver1_weight=4\nserver3=127.0.0.1:9003');
const d = withServers('server1=127.0.0.1:9101\nserver1_weight=4\nserver3=127.0.0.1:9003');
/** The same text as `a`, parsed again: equal, not identical. */
const a2 = withServers('server1=127.0.0.1:9001\nserver2=127.0.0.1:9002');
const configs = { a, b, c, d, e: a2 };

function step(
  config: Config,
  previous: Config | undefined,
  commands: ServerCommand[],
  pools: PoolChanges[] = [],
): ReconciledConfig {
  return { config, previous, changes: only({ commands, pools }) };
}

const first = step(
  a,
  undefined,
  [add(a, 'server1'), add(a, 'server2')],
  [{ pool: 'http', presence: 'added', settings: [] }],
);

describe('reconcileConfigs', () => {
  it('emits nothing while no config arrives (never)', () => {
    marbles(({ cold, expectObservable }) => {
      expectObservable(cold<Config>('-').pipe(reconcileConfigs())).toBe('-');
    });
  });

  it('completes with an empty source (empty)', () => {
    marbles(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold<Config>('|');
      expectObservable(source.pipe(reconcileConfigs())).toBe('|');
      expectSubscriptions(source.subscriptions).toBe('(^!)');
    });
  });

  it('passes an error through', () => {
    marbles(({ cold, expectObservable }) => {
      expectObservable(cold<Config>('#').pipe(reconcileConfigs())).toBe('#');
      expectObservable(cold('a-#', configs).pipe(reconcileConfigs())).toBe('x-#', { x: first });
    });
  });

  it('emits the first config with no previous one and every pool and server added', () => {
    marbles(({ cold, expectObservable }) => {
      expectObservable(cold('a|', configs).pipe(reconcileConfigs())).toBe('x|', { x: first });
    });
  });

  it('turns each reload into the add, update and remove commands against the config before', () => {
    marbles(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('a 10s b 10s c 10s d|', configs);
      expectObservable(source.pipe(reconcileConfigs())).toBe('w 10s x 10s y 10s z|', {
        w: first,
        x: step(b, a, [add(b, 'server3')]),
        y: step(c, b, [
          {
            kind: 'update',
            pool: 'http',
            server: serverOf(c, 'server1'),
            previous: serverOf(b, 'server1'),
            changed: ['weight'],
          },
          remove(b, 'server2'),
        ]),
        z: step(d, c, [remove(c, 'server1'), add(d, 'server1')]),
      });
      expectSubscriptions(source.subscriptions).toBe('^ 10s - 10s - 10s -!');
    });
  });

  it('emits a config equal to the previous one with empty changes', () => {
    marbles(({ cold, expectObservable }) => {
      const source = cold('a 1m e', configs);
      expectObservable(source.pipe(reconcileConfigs())).toBe('x 1m y', {
        x: first,
        y: step(a2, a, []),
      });
    });
  });

  it('keeps going with a never-ending source', () => {
    marbles(({ cold, expectObservable }) => {
      const source = cold('a 60m b', configs);
      expectObservable(source.pipe(reconcileConfigs())).toBe('x 60m y', {
        x: first,
        y: step(b, a, [add(b, 'server3')]),
      });
    });
  });

  it('keeps separate state per subscription and unsubscribes from its source early', () => {
    marbles(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('a-b-c|', configs);
      const reconciled = source.pipe(reconcileConfigs());
      expectObservable(reconciled, '^--!').toBe('x-y', {
        x: first,
        y: step(b, a, [add(b, 'server3')]),
      });
      expectObservable(reconciled, '--^').toBe('--x-y-z|', {
        x: first,
        y: step(b, a, [add(b, 'server3')]),
        z: expect.objectContaining({ config: c, previous: b }) as ReconciledConfig,
      });
      expectSubscriptions(source.subscriptions).toBe(['^--!', '--^----!']);
    });
  });
});
