import { map, type Observable } from 'rxjs';
import type { ProbeResult } from '../../src/health/probeResult';
import type { EjectionChange } from '../../src/operators/outlierEjection';
import { activeHealth, type CheckedProbe } from '../../src/streams/activeHealth';
import {
  AWAITING_PROBES,
  healthySet,
  roundWeight,
  type BackendInfo,
  type DownCause,
  type HealthySnapshot,
} from '../../src/streams/healthySet';
import { marbles } from '../helpers/marbles';

const backends = [
  { name: 'a', weight: 1 },
  { name: 'b', weight: 2 },
];
const off = { dynamicWeights: false, slowStartMs: 0 };

/** What took a backend out, as healthySet reports it: ejections say when they end. */
function causeOf(reason: string): DownCause {
  return reason.startsWith('ejected')
    ? { cause: 'ejection', returnsAt: expect.any(Number) as number }
    : { cause: 'health-check' };
}

function listSnap(
  backends: string[],
  weights: Record<string, number>,
  down: Record<string, string> = {},
): HealthySnapshot {
  return {
    backends,
    healthy: Object.keys(weights),
    weights: new Map(Object.entries(weights)),
    down: new Map(Object.entries(down)),
    causes: new Map(Object.entries(down).map(([name, reason]) => [name, causeOf(reason)])),
  };
}

function snap(weights: Record<string, number>, down: Record<string, string> = {}): HealthySnapshot {
  return listSnap(['a', 'b'], weights, down);
}

const probe = (
  backend: string,
  up: boolean,
  healthy: boolean,
  extra: Partial<CheckedProbe> = {},
): CheckedProbe => ({
  backend,
  up,
  healthy,
  ...(up ? {} : { reason: 'status 500' }),
  ...extra,
});

const ALL_IN = snap({ a: 1, b: 2 });

describe('healthySet', () => {
  it('starts with every backend in rotation at its static weight (never)', () => {
    marbles(({ cold, expectObservable }) => {
      const set = healthySet({ backends, probes$: cold('-'), ejections$: cold('-') }, off);
      expectObservable(set).toBe('a', { a: ALL_IN });
    });
  });

  it('takes a backend out when its checks fail and brings it back when they recover', () => {
    marbles(({ cold, expectObservable, expectSubscriptions }) => {
      const probes = cold<CheckedProbe>('-a-b-c-d', {
        a: probe('a', true, true),
        b: probe('a', false, false),
        c: probe('a', true, false),
        d: probe('a', true, true),
      });
      const set = healthySet({ backends, probes$: probes, ejections$: cold('-') }, off);
      expectObservable(set, '^ 8ms !').toBe('x--y---z', {
        x: ALL_IN,
        y: snap({ b: 2 }, { a: 'health check: status 500' }),
        z: ALL_IN,
      });
      expectSubscriptions(probes.subscriptions).toBe('^ 8ms !');
    });
  });

  it('takes an ejected backend out until it returns', () => {
    marbles(({ cold, expectObservable }) => {
      const ejections = cold<EjectionChange>('-e-r', {
        e: { backend: 'b', ejected: true, forMs: 30000, failures: 5 },
        r: { backend: 'b', ejected: false },
      });
      const set = healthySet({ backends, probes$: cold('-'), ejections$: ejections }, off);
      expectObservable(set).toBe('xy-z', {
        x: ALL_IN,
        y: snap({ a: 1 }, { b: 'ejected after 5 failures for 30000 ms' }),
        z: ALL_IN,
      });
    });
  });

  it('can be empty: no backend in rotation', () => {
    marbles(({ cold, expectObservable }) => {
      const probes = cold<CheckedProbe>('-ab', {
        a: probe('a', false, false),
        b: probe('b', false, false),
      });
      const set = healthySet({ backends, probes$: probes, ejections$: cold('-') }, off);
      expectObservable(set).toBe('xyz', {
        x: ALL_IN,
        y: snap({ b: 2 }, { a: 'health check: status 500' }),
        z: snap({}, { a: 'health check: status 500', b: 'health check: status 500' }),
      });
    });
  });

  it('emits only changes', () => {
    marbles(({ cold, expectObservable }) => {
      const probes = cold<CheckedProbe>('-aaaa', { a: probe('a', true, true) });
      const set = healthySet({ backends, probes$: probes, ejections$: cold('-') }, off);
      expectObservable(set).toBe('x----', { x: ALL_IN });
    });
  });

  it('scales weights by smoothed reported headroom, never below 10 %, and restores them when reports stop', () => {
    marbles(({ cold, expectObservable }) => {
      const load = (cpu: number) => ({ load: { cpu } });
      const probes = cold<CheckedProbe>('-abcdef', {
        a: probe('b', true, true, load(0.5)),
        b: probe('b', true, true, load(0.7)),
        c: probe('b', true, true, { load: { cpu: 0.2, memory: 0.99 } }),
        d: probe('b', true, true),
        e: probe('b', true, true),
        f: probe('b', true, true),
      });
      const set = healthySet(
        { backends, probes$: probes, ejections$: cold('-') },
        { dynamicWeights: true, slowStartMs: 0 },
      );
      expectObservable(set).toBe('xabc--d', {
        x: ALL_IN,
        a: snap({ a: 1, b: 1 }),
        b: snap({ a: 1, b: 0.8 }),
        c: snap({ a: 1, b: 0.41 }),
        d: ALL_IN,
      });
    });
  });

  it('ignores reported load without dynamic_weights', () => {
    marbles(({ cold, expectObservable }) => {
      const probes = cold<CheckedProbe>('-a', {
        a: probe('b', true, true, { load: { cpu: 0.9 } }),
      });
      expectObservable(healthySet({ backends, probes$: probes, ejections$: cold('-') }, off)).toBe(
        'x-',
        { x: ALL_IN },
      );
    });
  });

  it('ramps a returning backend from 10 % to full weight over slow_start', () => {
    marbles(({ cold, expectObservable, time }) => {
      const slowStart = time('--------------------|');
      const ejections: Observable<EjectionChange> = cold('-e-r', {
        e: { backend: 'a', ejected: true, forMs: 1, failures: 5 },
        r: { backend: 'a', ejected: false },
      });
      const set = healthySet(
        { backends, probes$: cold('-'), ejections$: ejections },
        { dynamicWeights: false, slowStartMs: slowStart },
      );
      expectObservable(set, '^ 30ms !').toBe('xy-a bcdefghijklmnopqrst u', {
        u: ALL_IN,
        x: ALL_IN,
        y: snap({ b: 2 }, { a: 'ejected after 5 failures for 1 ms' }),
        ...Object.fromEntries(
          'abcdefghijklmnopqrst'
            .split('')
            .map((key, index) => [
              key,
              snap({ a: roundWeight(Math.min(1, 0.1 + (0.9 * index) / 20)), b: 2 }),
            ]),
        ),
      });
    });
  });

  it('replays the latest snapshot to late subscribers and shares one subscription', () => {
    marbles(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const probes = hot<CheckedProbe>('-a--', { a: probe('a', false, false) });
      const set = healthySet({ backends, probes$: probes, ejections$: cold('-') }, off);
      expectObservable(set).toBe('xy--', {
        x: ALL_IN,
        y: snap({ b: 2 }, { a: 'health check: status 500' }),
      });
      expectObservable(set, '---^').toBe('---y', {
        y: snap({ b: 2 }, { a: 'health check: status 500' }),
      });
      expectSubscriptions(probes.subscriptions).toBe('^---');
    });
  });

  it('passes an error through and unsubscribes its sources', () => {
    marbles(({ cold, expectObservable, expectSubscriptions }) => {
      const probes = cold<CheckedProbe>('--#');
      const ejections = cold<EjectionChange>('----');
      expectObservable(healthySet({ backends, probes$: probes, ejections$: ejections }, off)).toBe(
        'x-#',
        { x: ALL_IN },
      );
      expectSubscriptions(ejections.subscriptions).toBe('^-!');
    });
  });
});

describe('healthySet over a changing backend list', () => {
  const c = { name: 'c', weight: 3 };
  const lists = { l: backends, m: [...backends, c], n: [backends[0] ?? c] };
  const ABC = ['a', 'b', 'c'];
  const checks = { ...off, activeChecks: true };
  const failing = 'health check: status 500';
  const ejection: EjectionChange = { backend: 'b', ejected: true, forMs: 30000, failures: 5 };
  const ejectedB = 'ejected after 5 failures for 30000 ms';
  const ejectAndReturn = { e: ejection, r: { backend: 'b', ejected: false } as const };

  it('emits nothing before the first list, and starts all of it in rotation, even with active checks', () => {
    marbles(({ cold, expectObservable }) => {
      const backends$ = cold<readonly BackendInfo[]>('--l', lists);
      const probes = cold<CheckedProbe>('-p', { p: probe('a', false, false) });
      const set = healthySet({ backends$, probes$: probes, ejections$: cold('-') }, checks);
      expectObservable(set).toBe('--x', { x: ALL_IN });
    });
  });

  it('puts a backend added later in rotation at once without active checks', () => {
    marbles(({ cold, expectObservable }) => {
      const backends$ = cold<readonly BackendInfo[]>('l--m', lists);
      const set = healthySet({ backends$, probes$: cold('-'), ejections$: cold('-') }, off);
      expectObservable(set).toBe('x--y', { x: ALL_IN, y: listSnap(ABC, { a: 1, b: 2, c: 3 }) });
    });
  });

  it('keeps a backend added later with active checks out until its probes say healthy', () => {
    marbles(({ cold, expectObservable }) => {
      const backends$ = cold<readonly BackendInfo[]>('l-m', lists);
      const probes = cold<CheckedProbe>('---pq', {
        p: probe('c', true, false),
        q: probe('c', true, true),
      });
      const set = healthySet({ backends$, probes$: probes, ejections$: cold('-') }, checks);
      expectObservable(set).toBe('x-y-z', {
        x: ALL_IN,
        y: listSnap(ABC, { a: 1, b: 2 }, { c: AWAITING_PROBES }),
        z: listSnap(ABC, { a: 1, b: 2, c: 3 }),
      });
    });
  });

  it('lets a backend added later in after `rise` passing probes of activeHealth over the same list', () => {
    marbles(({ cold, expectObservable, time }) => {
      const interval = time('----|');
      const backends$ = cold<readonly BackendInfo[]>('l-m', lists);
      const names$ = backends$.pipe(map((list) => list.map((info) => info.name)));
      const probes$ = activeHealth(
        names$,
        (backend) => cold<ProbeResult>('-u|', { u: { backend, up: true } }),
        { intervalMs: interval, timeoutMs: 3, rise: 2, fall: 1 },
      );
      const set = healthySet({ backends$, probes$, ejections$: cold('-') }, checks);
      expectObservable(set, '^ 9ms !').toBe('x-y----z', {
        x: ALL_IN,
        y: listSnap(ABC, { a: 1, b: 2 }, { c: AWAITING_PROBES }),
        z: listSnap(ABC, { a: 1, b: 2, c: 3 }),
      });
    });
  });

  it('keeps the health and the ejection of backends that stay through a list change', () => {
    marbles(({ cold, expectObservable }) => {
      const backends$ = cold<readonly BackendInfo[]>('l---m', lists);
      const probes = cold<CheckedProbe>('--p', { p: probe('a', false, false) });
      const ejections = cold<EjectionChange>('-e---r', ejectAndReturn);
      const set = healthySet({ backends$, probes$: probes, ejections$: ejections }, off);
      expectObservable(set).toBe('xyz-wv', {
        x: ALL_IN,
        y: snap({ a: 1 }, { b: ejectedB }),
        z: snap({}, { a: failing, b: ejectedB }),
        w: listSnap(ABC, { c: 3 }, { a: failing, b: ejectedB }),
        v: listSnap(ABC, { b: 2, c: 3 }, { a: failing }),
      });
    });
  });

  it('drops a removed backend from the snapshot and ignores what still arrives for it', () => {
    marbles(({ cold, expectObservable }) => {
      const backends$ = cold<readonly BackendInfo[]>('l--n', lists);
      const probes = cold<CheckedProbe>('----p', { p: probe('b', false, false) });
      const ejections = cold<EjectionChange>('-e---r', ejectAndReturn);
      const set = healthySet({ backends$, probes$: probes, ejections$: ejections }, off);
      expectObservable(set).toBe('xy-z--', {
        x: ALL_IN,
        y: snap({ a: 1 }, { b: ejectedB }),
        z: listSnap(['a'], { a: 1 }),
      });
    });
  });

  it('starts a backend removed and added again afresh', () => {
    marbles(({ cold, expectObservable }) => {
      const backends$ = cold<readonly BackendInfo[]>('l-n-l', lists);
      const ejections = cold<EjectionChange>('-e', { e: ejection });
      const set = healthySet({ backends$, probes$: cold('-'), ejections$: ejections }, off);
      expectObservable(set).toBe('xyz-x', {
        x: ALL_IN,
        y: snap({ a: 1 }, { b: ejectedB }),
        z: listSnap(['a'], { a: 1 }),
      });
    });
  });

  it('applies a new static weight to a backend that stays, keeping its headroom and the others', () => {
    marbles(({ cold, expectObservable }) => {
      const heavier = [
        { name: 'a', weight: 1 },
        { name: 'b', weight: 4 },
      ];
      const backends$ = cold<readonly BackendInfo[]>('l--h', { l: backends, h: heavier });
      const probes = cold<CheckedProbe>('-pq', {
        p: probe('b', true, true, { load: { cpu: 0.5 } }),
        q: probe('a', false, false),
      });
      const set = healthySet(
        { backends$, probes$: probes, ejections$: cold('-') },
        { dynamicWeights: true, slowStartMs: 0 },
      );
      expectObservable(set).toBe('xyzw', {
        x: ALL_IN,
        y: snap({ a: 1, b: 1 }),
        z: snap({ b: 1 }, { a: failing }),
        w: snap({ b: 2 }, { a: failing }),
      });
    });
  });

  it('ramps a backend added later with slow_start, and a new weight keeps the ramp going', () => {
    marbles(({ cold, expectObservable, time }) => {
      const slowStart = time('----------------------------------------|');
      const c10 = { name: 'c', weight: 10 };
      const backends$ = cold<readonly BackendInfo[]>('lm---------h', {
        l: backends,
        m: [...backends, c10],
        h: [...backends, { name: 'c', weight: 20 }],
      });
      const set = healthySet(
        { backends$, probes$: cold('-'), ejections$: cold('-') },
        { dynamicWeights: false, slowStartMs: slowStart },
      );
      const ramped = (weight: number, ms: number) =>
        listSnap(ABC, { a: 1, b: 2, c: roundWeight(weight * (0.1 + (0.9 * ms) / slowStart)) });
      expectObservable(set, '^ 13ms !').toBe('xab-c-d-e-fgh', {
        x: ALL_IN,
        a: ramped(10, 0),
        b: ramped(10, 1),
        c: ramped(10, 3),
        d: ramped(10, 5),
        e: ramped(10, 7),
        f: ramped(10, 9),
        g: ramped(20, 10),
        h: ramped(20, 11),
      });
    });
  });

  it('passes an error of the list through and unsubscribes its sources', () => {
    marbles(({ cold, expectObservable, expectSubscriptions }) => {
      const backends$ = cold<readonly BackendInfo[]>('l-#', lists);
      const probes = cold<CheckedProbe>('----');
      const ejections = cold<EjectionChange>('----');
      const set = healthySet({ backends$, probes$: probes, ejections$: ejections }, off);
      expectObservable(set).toBe('x-#', { x: ALL_IN });
      expectSubscriptions(probes.subscriptions).toBe('^-!');
      expectSubscriptions(ejections.subscriptions).toBe('^-!');
    });
  });

  it('unsubscribes the list, the probes and the ejections on teardown', () => {
    marbles(({ cold, expectObservable, expectSubscriptions }) => {
      const backends$ = cold<readonly BackendInfo[]>('l-----m', lists);
      const probes = cold<CheckedProbe>('------');
      const ejections = cold<EjectionChange>('------');
      const set = healthySet({ backends$, probes$: probes, ejections$: ejections }, off);
      expectObservable(set, '^--!').toBe('x---', { x: ALL_IN });
      expectSubscriptions(backends$.subscriptions).toBe('^--!');
      expectSubscriptions(probes.subscriptions).toBe('^--!');
      expectSubscriptions(ejections.subscriptions).toBe('^--!');
    });
  });
});
