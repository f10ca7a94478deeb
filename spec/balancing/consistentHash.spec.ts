import { createPicker, seededRandom } from '../../src/balancing';
import { POINTS_PER_BACKEND } from '../../src/balancing/consistentHash';
import { candidates, type TestCandidate } from './candidates';

const keys = (count: number) => Array.from({ length: count }, (_, i) => `user-${i}`);

/** Where each key goes, as a map from key to backend name. */
function mapping(
  pick: ReturnType<typeof createPicker>,
  set: readonly TestCandidate[],
  list: readonly string[],
) {
  return new Map(list.map((hashKey) => [hashKey, pick(set, { hashKey })?.name]));
}

function shares(assignment: Map<string, string | undefined>) {
  const counts: Record<string, number> = {};
  for (const name of assignment.values())
    counts[name ?? 'none'] = (counts[name ?? 'none'] ?? 0) + 1;
  return counts;
}

const four = () => candidates(['server1', 'server2', 'server3', 'server4']);

describe('consistent-hash', () => {
  it('maps keys identically in two independently created pickers', () => {
    const first = mapping(createPicker('consistent-hash'), four(), keys(1000));
    const second = mapping(
      createPicker('consistent-hash', { random: seededRandom(99) }),
      four(),
      keys(1000),
    );
    expect(second).toEqual(first);
  });

  it('does not depend on the order of the candidates', () => {
    const set = four();
    const first = mapping(createPicker('consistent-hash'), set, keys(1000));
    const second = mapping(createPicker('consistent-hash'), [...set].reverse(), keys(1000));
    expect(second).toEqual(first);
  });

  it('pins where a few keys go (a change of hash or ring layout shows here)', () => {
    const pick = createPicker('consistent-hash');
    const set = four();
    expect(
      ['user-0', 'user-1', 'user-2', 'user-3', 'user-4', '10.0.0.1', '/api/items'].map(
        (hashKey) => pick(set, { hashKey })?.name,
      ),
    ).toEqual(['server4', 'server4', 'server1', 'server1', 'server1', 'server3', 'server1']);
  });

  it.each(['server1', 'server2', 'server3', 'server4'])(
    'when %s leaves, only its keys move, and they spread over the rest',
    (leaving) => {
      const set = four();
      const pick = createPicker('consistent-hash');
      const before = mapping(pick, set, keys(1000));
      const after = mapping(
        pick,
        set.filter((candidate) => candidate.name !== leaving),
        keys(1000),
      );
      const moved: Record<string, number> = {};
      for (const [hashKey, was] of before) {
        const now = after.get(hashKey);
        if (was === leaving) moved[now!] = (moved[now!] ?? 0) + 1;
        else expect(now).toBe(was);
      }
      expect(Object.keys(moved).sort()).toEqual(
        set.map(({ name }) => name).filter((name) => name !== leaving),
      );
      expect(moved[leaving]).toBeUndefined();
    },
  );

  it('moves only keys to a backend that joins', () => {
    const pick = createPicker('consistent-hash');
    const before = mapping(pick, four(), keys(1000));
    const after = mapping(
      pick,
      candidates(['server1', 'server2', 'server3', 'server4', 'server5']),
      keys(1000),
    );
    let moved = 0;
    for (const [hashKey, was] of before) {
      const now = after.get(hashKey);
      if (now !== was) {
        expect(now).toBe('server5');
        moved++;
      }
    }
    expect(moved).toBeGreaterThan(100);
    expect(moved).toBeLessThan(300);
  });

  it('spreads 10 000 keys over 4 backends within ±25 % of the mean', () => {
    const counts = shares(mapping(createPicker('consistent-hash'), four(), keys(10_000)));
    expect(Object.keys(counts).sort()).toEqual(['server1', 'server2', 'server3', 'server4']);
    for (const count of Object.values(counts)) {
      expect(count).toBeGreaterThanOrEqual(2500 * 0.75);
      expect(count).toBeLessThanOrEqual(2500 * 1.25);
    }
  });

  it(`gives every backend ${POINTS_PER_BACKEND} points whatever its weight`, () => {
    const light = candidates(['server1', 'server2', 'server3', 'server4'], [0.1, 1, 2, 0.35]);
    expect(mapping(createPicker('consistent-hash'), light, keys(1000))).toEqual(
      mapping(createPicker('consistent-hash'), four(), keys(1000)),
    );
  });

  it('walks on clockwise past excluded backends, to the same place every time', () => {
    const set = four();
    const pick = createPicker('consistent-hash');
    const before = mapping(pick, set, keys(1000));
    const withoutTwo = mapping(
      pick,
      set.filter(({ name }) => name !== 'server2'),
      keys(1000),
    );
    const excluded = new Set(['server2']);
    for (const hashKey of keys(1000)) {
      const chosen = pick(set, { hashKey, excluded })?.name;
      // Excluding a backend sends its keys where they would go if it were gone.
      expect(chosen).toBe(withoutTwo.get(hashKey));
      if (before.get(hashKey) !== 'server2') expect(chosen).toBe(before.get(hashKey));
    }
  });

  it.each([1, 2, 3])('without a hash key still picks a candidate (seed %d)', (seed) => {
    const pick = createPicker('consistent-hash', { random: seededRandom(seed) });
    const set = four();
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const chosen = pick(set);
      expect(set).toContain(chosen);
      seen.add(chosen!.name);
    }
    expect(seen.size).toBe(4);
  });

  describe('bounded loads', () => {
    it('sends the keys of an overloaded backend elsewhere', () => {
      const set = four();
      const unbounded = mapping(createPicker('consistent-hash'), set, keys(1000));
      set[0]!.load = 1000;
      set[1]!.load = 2;
      set[2]!.load = 1;
      const pick = createPicker('consistent-hash', { hashBalanceFactor: 125 });
      for (const [hashKey, was] of unbounded) {
        const chosen = pick(set, { hashKey })?.name;
        if (was === 'server1') expect(chosen).not.toBe('server1');
        else expect(chosen).toBe(was);
      }
      // Unbounded, the load does not matter.
      expect(
        mapping(createPicker('consistent-hash', { hashBalanceFactor: 0 }), set, keys(1000)),
      ).toEqual(unbounded);
    });

    it.each([101, 125, 150, 200])(
      'with factor %d no backend takes more than its capacity as requests pile up',
      (factor) => {
        const set = four();
        const pick = createPicker('consistent-hash', { hashBalanceFactor: factor });
        let total = 0;
        for (const hashKey of keys(1000)) {
          const capacity = Math.ceil(((factor / 100) * (total + 1)) / set.length);
          const chosen = pick(set, { hashKey })!;
          chosen.load++;
          total++;
          expect(Math.max(...set.map(({ load }) => load))).toBeLessThanOrEqual(capacity);
        }
        expect(total).toBe(1000);
      },
    );

    it('still prefers the hashed backend when it is under capacity', () => {
      const set = four();
      const unbounded = mapping(createPicker('consistent-hash'), set, keys(200));
      for (const candidate of set) candidate.load = 10;
      expect(
        mapping(createPicker('consistent-hash', { hashBalanceFactor: 125 }), set, keys(200)),
      ).toEqual(unbounded);
    });

    it('bounds over the candidates not excluded', () => {
      const set = candidates(['server1', 'server2', 'server3', 'server4'], [], [50, 0, 9, 9]);
      const pick = createPicker('consistent-hash', { hashBalanceFactor: 125 });
      const excluded = new Set(['server1']);
      // capacity = ceil(1.25 * 19 / 3) = 8: only server2 is below it.
      for (const hashKey of keys(100))
        expect(pick(set, { hashKey, excluded })?.name).toBe('server2');
    });
  });
});
