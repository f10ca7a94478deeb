import { stableHash } from '../../src/balancing';

describe('stableHash (MurmurHash3 x86 32-bit of UTF-8)', () => {
  it.each([
    ['', 0, 0x00000000],
    ['', 1, 0x514e28b7],
    ['', 0xffffffff, 0x81f16f39],
    ['a', 0, 0x3c2569b2],
    ['abc', 0, 0xb3dd93fa],
    ['test', 0, 0xba6bd213],
    ['Hello, world!', 0, 0xc0363e43],
    ['Hello, world!', 0x9747b28c, 0x24884cba],
    ['The quick brown fox jumps over the lazy dog', 0, 0x2e4ff723],
    ['server1#0', 0, 0xe9a610c4],
    ['user-42', 0, 0xb972dad0],
    ['héllo wörld', 0, 0x97f7f274],
    ['日本語', 0, 0xa5a47297],
    ['😀 emoji', 0, 0x91ea08be],
  ])('hashes %j with seed %d to %d', (text, seed, expected) => {
    expect(stableHash(text, seed)).toBe(expected);
  });

  it('hashes the UTF-8 bytes, as Buffer encodes them', () => {
    // A lone surrogate becomes U+FFFD (EF BF BD), as in Buffer.from(text, 'utf8').
    expect(stableHash('x\uD800y')).toBe(stableHash('x\uFFFDy'));
  });

  it('returns unsigned 32-bit integers, spread over the whole range', () => {
    let high = 0;
    for (let i = 0; i < 10_000; i++) {
      const hash = stableHash(`key-${i}`);
      expect(Number.isInteger(hash) && hash >= 0 && hash <= 0xffffffff).toBe(true);
      if (hash >= 0x80000000) high++;
    }
    expect(high).toBeGreaterThan(4800);
    expect(high).toBeLessThan(5200);
  });
});
