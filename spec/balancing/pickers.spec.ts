import { createPicker, seededRandom } from '../../src/balancing';

const servers = ['server1', 'server2', 'server3'] as const;

function counts(
  pick: (list: readonly string[]) => string | undefined,
  times: number,
  list: readonly string[] = servers,
) {
  const tally = new Map<string, number>();
  for (let i = 0; i < times; i++) {
    const chosen = pick(list) ?? 'none';
    tally.set(chosen, (tally.get(chosen) ?? 0) + 1);
  }
  return Object.fromEntries(tally);
}

describe('pickers', () => {
  it.each(['round-robin', 'random'] as const)('%s picks nothing from an empty set', (algorithm) => {
    expect(createPicker(algorithm, seededRandom(1))([])).toBeUndefined();
  });

  it('round-robin visits the servers in order', () => {
    const pick = createPicker('round-robin');
    expect(Array.from({ length: 7 }, () => pick(servers))).toEqual([
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
    expect(counts(createPicker('round-robin'), 300)).toEqual({
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
    expect([pick(['a', 'b']), pick(['a', 'b']), pick(['a', 'b'])]).toEqual(['a', 'b', 'a']);
  });

  it.each([1, 2, 3, 42, 2024])(
    'random with seed %d is uniform (chi-squared, 3 bins, p > 0.001)',
    (seed) => {
      const times = 30_000;
      const tally = counts(createPicker('random', seededRandom(seed)), times);
      const expected = times / servers.length;
      const chiSquared = servers.reduce(
        (sum, server) => sum + ((tally[server] ?? 0) - expected) ** 2 / expected,
        0,
      );
      expect(chiSquared).toBeLessThan(13.82);
    },
  );

  it('random with the same seed repeats itself', () => {
    const first = createPicker('random', seededRandom(7));
    const second = createPicker('random', seededRandom(7));
    expect(Array.from({ length: 20 }, () => first(servers))).toEqual(
      Array.from({ length: 20 }, () => second(servers)),
    );
  });
});
