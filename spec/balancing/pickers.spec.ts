import { createPicker, seededRandom } from '../../src/balancing';
import { algorithms, candidates, tally } from './candidates';

const servers = candidates(['server1', 'server2', 'server3']);

describe('pickers', () => {
  describe.each(algorithms)('%s', (algorithm) => {
    const make = () => createPicker(algorithm, { random: seededRandom(1), hashBalanceFactor: 125 });

    it('picks nothing from an empty set', () => {
      expect(make()([])).toBeUndefined();
      expect(make()([], { hashKey: 'user-1' })).toBeUndefined();
    });

    it('picks nothing when every candidate is excluded', () => {
      const excluded = new Set(['server1', 'server2', 'server3']);
      expect(make()(servers, { excluded })).toBeUndefined();
      expect(make()(servers, { excluded, hashKey: 'user-1' })).toBeUndefined();
    });

    it.each([
      [['server1']],
      [['server2']],
      [['server3']],
      [['server1', 'server2']],
      [['server1', 'server3']],
      [['server2', 'server3']],
    ])('never picks an excluded candidate (%j)', (names) => {
      const excluded = new Set(names);
      const pick = make();
      for (let i = 0; i < 300; i++) {
        const chosen = pick(servers, { excluded, hashKey: i % 2 ? `user-${i}` : undefined });
        expect(chosen).toBeDefined();
        expect(excluded.has(chosen!.name)).toBe(false);
      }
    });

    it('returns one of the candidates themselves', () => {
      const chosen = make()(servers, { hashKey: 'user-1' });
      expect(servers).toContain(chosen);
    });
  });

  it('round-robin visits the servers in order', () => {
    const pick = createPicker('round-robin');
    expect(Array.from({ length: 7 }, () => pick(servers)?.name)).toEqual([
      'server1',
      'server2',
      'server3',
      'server1',
      'server2',
      'server3',
      'server1',
    ]);
  });

  it('round-robin is exactly even over whole cycles', () => {
    const pick = createPicker('round-robin');
    expect(tally(() => pick(servers), 300)).toEqual({
      server1: 100,
      server2: 100,
      server3: 100,
    });
  });

  it('round-robin keeps going when the set shrinks', () => {
    const pick = createPicker('round-robin');
    pick(servers);
    pick(servers);
    pick(servers);
    const fewer = candidates(['a', 'b']);
    expect([pick(fewer), pick(fewer), pick(fewer)].map((chosen) => chosen?.name)).toEqual([
      'a',
      'b',
      'a',
    ]);
  });

  it.each([1, 2, 3, 42, 2024])(
    'random with seed %d is uniform (chi-squared, 3 bins, p > 0.001)',
    (seed) => {
      const times = 30_000;
      const pick = createPicker('random', { random: seededRandom(seed) });
      const counts = tally(() => pick(servers), times);
      const expected = times / servers.length;
      const chiSquared = servers.reduce(
        (sum, { name }) => sum + ((counts[name] ?? 0) - expected) ** 2 / expected,
        0,
      );
      expect(chiSquared).toBeLessThan(13.82);
    },
  );

  it('random with the same seed repeats itself', () => {
    const first = createPicker('random', { random: seededRandom(7) });
    const second = createPicker('random', { random: seededRandom(7) });
    expect(Array.from({ length: 20 }, () => first(servers)?.name)).toEqual(
      Array.from({ length: 20 }, () => second(servers)?.name),
    );
  });
});
