// The property test of the frame scanner: random frame sequences (valid for the state, random
// lengths including the encoding boundaries, masked as the direction requires, sometimes ending in
// a violating frame), serialized, then scanned in random chunkings. Seeded, so a failure names
// the seed that reproduces it.

import { seededRandom } from '../../src/balancing/seededRandom';
import type { RandomSource } from '../../src/balancing/picker';
import { FrameScanner, ScanResult } from '../../src/net/wsFrameScanner';
import { closeBody, frame, frameHeader, OP } from './wsFrames';

const BOUNDARY_LENGTHS = [0, 1, 2, 125, 126, 127, 65535, 65536];
const BYTE_BUDGET = 200_000;
const MAX_MESSAGE_SIZE = 300_000;
const CLOSE_CODES = [1000, 1001, 1011, 3000, 4999];

interface Sequence {
  masked: boolean;
  compressed: boolean;
  maxMessageSize: number;
  data: Buffer;
  messages: number;
  bytes: number;
  controlFrames: number;
  closeCode: number;
  closeReason: string;
  inMessage: boolean;
  /** Where a violating last frame starts, or -1. */
  violationAt: number;
  violationCode: number;
}

function generate(random: RandomSource): Sequence {
  const int = (n: number) => Math.floor(random() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  const masked = random() < 0.5;
  const compressed = random() < 0.5;
  const maxMessageSize = random() < 0.5 ? 0 : MAX_MESSAGE_SIZE;
  const key = () =>
    masked
      ? Buffer.from(random() < 0.05 ? [0, 0, 0, 0] : [int(256), int(256), int(256), int(256)])
      : undefined;
  const s = {
    masked,
    compressed,
    maxMessageSize,
    messages: 0,
    bytes: 0,
    controlFrames: 0,
    closeCode: 0,
    closeReason: '',
    inMessage: false,
    violationAt: -1,
    violationCode: 0,
  };
  const frames: Buffer[] = [];
  let size = 0;
  const add = (data: Buffer) => {
    frames.push(data);
    size += data.length;
  };
  for (let n = 1 + int(25); n > 0; n--) {
    if (random() < 0.25) {
      const opcode = pick([OP.ping, OP.pong, OP.close]);
      const body =
        opcode !== OP.close
          ? Buffer.alloc(pick([0, 125, int(126)]))
          : random() < 0.3
            ? Buffer.alloc(0)
            : closeBody(pick(CLOSE_CODES), 'x'.repeat(int(124)));
      if (opcode === OP.close) {
        s.closeCode = body.length === 0 ? 1005 : body.readUInt16BE(0);
        s.closeReason = body.subarray(2).toString();
      }
      add(frame(opcode, body, { key: key() }));
      s.controlFrames++;
      continue;
    }
    const length = Math.min(
      random() < 0.3 ? pick(BOUNDARY_LENGTHS) : int(300),
      Math.max(0, BYTE_BUDGET - size),
    );
    const fin = random() < 0.5;
    const first = !s.inMessage;
    const opcode = first ? pick([OP.text, OP.binary]) : OP.continuation;
    const rsv = compressed && first && random() < 0.5 ? 0x40 : 0;
    add(frame(opcode, Buffer.alloc(length, int(256)), { fin, rsv, key: key() }));
    s.bytes += length;
    s.inMessage = !fin;
    if (fin) s.messages++;
  }
  if (random() < 0.3) {
    const bad = violatingFrame(pick, s, key());
    s.violationAt = size;
    s.violationCode = bad.code;
    add(bad.data);
  }
  return { ...s, data: Buffer.concat(frames) };
}

function violatingFrame(
  pick: <T>(items: readonly T[]) => T,
  s: Omit<Sequence, 'data'>,
  key: Buffer | undefined,
) {
  const kinds = [
    { code: 1002, data: frame(pick([3, 7, 0xb, 0xf]), Buffer.alloc(3), { key }) },
    { code: 1002, data: frame(OP.binary, Buffer.alloc(3), { key, rsv: 0x20 }) },
    { code: 1002, data: frame(OP.ping, Buffer.alloc(3), { key, fin: false }) },
    { code: 1002, data: frame(s.inMessage ? OP.text : OP.continuation, Buffer.alloc(3), { key }) },
    {
      code: 1002,
      data: frame(OP.binary, Buffer.alloc(3), { key: key ? undefined : Buffer.from([1, 2, 3, 4]) }),
    },
    { code: 1002, data: frameHeader(OP.binary, 2n ** 63n + 5n, { key }) },
  ];
  if (s.maxMessageSize > 0) {
    const opcode = s.inMessage ? OP.continuation : OP.binary;
    kinds.push({ code: 1009, data: frameHeader(opcode, s.maxMessageSize + 1, { key }) });
  }
  return pick(kinds);
}

/** Chunk lengths: one byte at a time, small, medium or any size up to the whole. */
function chunking(random: RandomSource, total: number): () => number {
  const strategy = Math.floor(random() * 4);
  const most = [1, 16, 2048, total][total > 20_000 && strategy === 0 ? 1 : strategy]!;
  return () => 1 + Math.floor(random() * most);
}

export function checkRandomSequences(count: number): void {
  for (let seed = 1; seed <= count; seed++) {
    const random = seededRandom(seed);
    const s = generate(random);
    const original = Buffer.from(s.data);
    const scanner = new FrameScanner(s);
    const next = chunking(random, s.data.length);
    const forwarded: Buffer[] = [];
    let violationAt = -1;
    let violationCode = 0;
    for (let at = 0; at < s.data.length;) {
      const chunk = s.data.subarray(at, at + next());
      const result = scanner.scan(chunk);
      if (result === ScanResult.Violation) {
        violationAt = at + scanner.violationOffset;
        violationCode = scanner.violationCode;
        forwarded.push(chunk.subarray(0, Math.max(0, scanner.violationOffset)));
        break;
      }
      forwarded.push(chunk);
      at += chunk.length;
    }
    const out = Buffer.concat(forwarded);
    const actual = {
      seed,
      messages: scanner.messages,
      bytes: scanner.bytes,
      controlFrames: scanner.controlFrames,
      closeCode: scanner.closeCode,
      closeReason: scanner.closeReason,
      violationAt,
      violationCode,
      inMessage: violationAt < 0 ? !scanner.betweenMessages : s.inMessage,
      out: out.equals(original.subarray(0, out.length)) ? 'unchanged' : 'changed',
      // All bytes before a violating frame, and of it at most the header bytes already passed
      // in earlier chunks before the violation could be seen (up to 9).
      forwarded:
        violationAt < 0 ? out.length : out.length >= violationAt && out.length <= violationAt + 9,
    };
    expect(actual).toEqual({
      seed,
      messages: s.messages,
      bytes: s.bytes,
      controlFrames: s.controlFrames,
      closeCode: s.closeCode,
      closeReason: s.closeReason,
      violationAt: s.violationAt,
      violationCode: s.violationCode,
      inMessage: s.inMessage,
      out: 'unchanged',
      forwarded: s.violationAt < 0 ? s.data.length : true,
    });
  }
}
