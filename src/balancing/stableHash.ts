/**
 * MurmurHash3 x86 32-bit (Austin Appleby) of the string's UTF-8 bytes, as an unsigned 32-bit
 * integer. Deterministic across processes, machines and Node versions: the same input always
 * gives the same output, matching the reference implementation (and e.g. Python's
 * `mmh3.hash(s, seed, signed=False)`). The UTF-8 encoding is done on the fly, so hashing
 * allocates nothing.
 */
export function stableHash(text: string, seed = 0): number {
  h = seed | 0;
  block = 0;
  filled = 0;
  length = 0;

  for (let i = 0; i < text.length; i++) {
    let code = text.charCodeAt(i);
    if (code < 0x80) {
      push(code);
      continue;
    }
    if (code >= 0xd800 && code < 0xdc00 && i + 1 < text.length) {
      const low = text.charCodeAt(i + 1);
      if (low >= 0xdc00 && low < 0xe000) {
        code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
        i++;
      }
    }
    // Lone surrogates are encoded as U+FFFD, like TextEncoder and Buffer do.
    if (code >= 0xd800 && code < 0xe000) code = 0xfffd;
    if (code < 0x800) {
      push(0xc0 | (code >> 6));
    } else if (code < 0x10000) {
      push(0xe0 | (code >> 12));
      push(0x80 | ((code >> 6) & 0x3f));
    } else {
      push(0xf0 | (code >> 18));
      push(0x80 | ((code >> 12) & 0x3f));
      push(0x80 | ((code >> 6) & 0x3f));
    }
    push(0x80 | (code & 0x3f));
  }

  if (filled > 0) h ^= scramble(block);
  h ^= length;
  // fmix32: full avalanche of the final state.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

// The state of the hash in progress. Module-level rather than captured by a closure per call, so
// that hashing allocates nothing; safe because stableHash is synchronous and never re-entered.
let h = 0;
/** Up to 4 pending bytes, little-endian. */
let block = 0;
/** How many bytes `block` holds. */
let filled = 0;
/** Bytes hashed so far. */
let length = 0;

function push(byte: number): void {
  block |= byte << (filled << 3);
  length++;
  if (++filled === 4) {
    h ^= scramble(block);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
    block = 0;
    filled = 0;
  }
}

function scramble(k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  return Math.imul(k, 0x1b873593);
}
