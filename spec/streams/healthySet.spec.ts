import type { Observable } from 'rxjs';
import type { EjectionChange } from '../../src/operators/outlierEjection';
import type { CheckedProbe } from '../../src/streams/activeHealth';
import {
  healthySet,
  roundWeight,
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

function snap(weights: Record<string, number>, down: Record<string, string> = {}): HealthySnapshot {
  return {
    backends: ['a', 'b'],
    healthy: Object.keys(weights),
    weights: new Map(Object.entries(weights)),
    down: new Map(Object.entries(down)),
    causes: new Map(Object.entries(down).map(([name, reason]) => [name, causeOf(reason)])),
  };
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
