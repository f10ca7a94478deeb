import { keyOwner, type MaybeReachable } from '../../src/balancing/keyOwner';

const ring = (...members: MaybeReachable[]) => {
  const asked: (readonly string[])[] = [];
  const pick = (excluded: ReadonlySet<string> | undefined) => {
    asked.push([...(excluded ?? [])]);
    return members.find((member) => !excluded?.has(member.name));
  };
  return { pick, asked };
};

describe('keyOwner', () => {
  it('is the owner when it can be reached, asking once', () => {
    const { pick, asked } = ring(
      { name: 'a', unreachable: false },
      { name: 'b', unreachable: false },
    );
    expect(keyOwner(pick, undefined)?.name).toBe('a');
    expect(asked).toEqual([[]]);
  });

  it('passes owners that cannot be reached, in ring order', () => {
    const { pick } = ring(
      { name: 'a', unreachable: true },
      { name: 'b', unreachable: true },
      { name: 'c', unreachable: false },
    );
    expect(keyOwner(pick, undefined)?.name).toBe('c');
  });

  it('keeps the exclusions it was given', () => {
    const { pick, asked } = ring(
      { name: 'a', unreachable: false },
      { name: 'b', unreachable: false },
    );
    expect(keyOwner(pick, new Set(['a']))?.name).toBe('b');
    expect(asked).toEqual([['a']]);
  });

  it('is undefined when every node is out', () => {
    const { pick } = ring({ name: 'a', unreachable: true });
    expect(keyOwner(pick, undefined)).toBeUndefined();
  });
});
