import WebSocket from 'ws';
import { FrameScanner, ScanResult, type FrameScannerOptions } from '../../src/net/wsFrameScanner';
import { closeBody, frame, frameHeader, OP, type FrameOptions } from '../helpers/wsFrames';
import { checkRandomSequences } from '../helpers/wsFrameSequences';

const KEY = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);
const fromClient = (options: Partial<FrameScannerOptions> = {}) =>
  new FrameScanner({ masked: true, maxMessageSize: 0, ...options });
const fromServer = (options: Partial<FrameScannerOptions> = {}) =>
  new FrameScanner({ masked: false, maxMessageSize: 0, ...options });
/** A frame as a client sends it: masked. */
const masked = (opcode: number, payload: Buffer, options: FrameOptions = {}) =>
  frame(opcode, payload, { key: KEY, ...options });
const bytes = (length: number) => Buffer.alloc(length, 0x61);

const counts = (scanner: FrameScanner) => ({
  messages: scanner.messages,
  bytes: scanner.bytes,
  controlFrames: scanner.controlFrames,
});

/** `data` cut at the given offsets. */
function cut(data: Buffer, ...offsets: number[]): Buffer[] {
  const edges = [0, ...offsets, data.length];
  return edges.slice(1).map((end, i) => data.subarray(edges[i], end));
}

/** The header length written in a frame's second byte. */
const headerLengthOf = (data: Buffer) => {
  const len7 = data[1]! & 0x7f;
  return 2 + (len7 === 127 ? 8 : len7 === 126 ? 2 : 0) + (data[1]! & 0x80 ? 4 : 0);
};
const isFinalData = (data: Buffer) => (data[0]! & 0x80) !== 0 && (data[0]! & 0x0f) < 8;

const scanAll = (scanner: FrameScanner, chunks: Buffer[]) => chunks.map((c) => scanner.scan(c));

describe('FrameScanner', () => {
  describe('length encodings', () => {
    const cases = [0, 125, 126, 65535, 65536].flatMap((length) => [
      { length, masked: true, headerLength: (length > 65535 ? 10 : length > 125 ? 4 : 2) + 4 },
      { length, masked: false, headerLength: length > 65535 ? 10 : length > 125 ? 4 : 2 },
    ]);

    it.each(cases)('$length bytes, masked $masked: a $headerLength-byte header', (c) => {
      const data = frame(OP.binary, bytes(c.length), c.masked ? { key: KEY } : {});
      expect(data.length - c.length).toBe(c.headerLength);
      const scanner = c.masked ? fromClient() : fromServer();
      expect(scanner.scan(data)).toBe(ScanResult.Ok);
      expect(counts(scanner)).toEqual({ messages: 1, bytes: c.length, controlFrames: 0 });
      expect(scanner.atFrameBoundary).toBe(true);
    });

    it.each(cases)('$length bytes, masked $masked: split at every header byte', (c) => {
      const one = frame(OP.text, bytes(c.length), c.masked ? { key: KEY } : {});
      const two = Buffer.concat([one, one]);
      for (let k = 1; k < c.headerLength; k++) {
        const scanner = c.masked ? fromClient() : fromServer();
        const results = scanAll(scanner, cut(two, k, one.length + k));
        expect({ k, results, ...counts(scanner) }).toEqual({
          k,
          results: [ScanResult.Ok, ScanResult.Ok, ScanResult.Ok],
          messages: 2,
          bytes: 2 * c.length,
          controlFrames: 0,
        });
      }
    });

    it.each(cases)('$length bytes, masked $masked: the header one byte at a time', (c) => {
      const data = frame(OP.binary, bytes(c.length), c.masked ? { key: KEY } : {});
      const scanner = c.masked ? fromClient() : fromServer();
      for (let k = 0; k < c.headerLength; k++) {
        expect(scanner.atFrameBoundary).toBe(k === 0);
        scanner.scan(data.subarray(k, k + 1));
      }
      expect(scanner.atFrameBoundary).toBe(c.length === 0);
      scanner.scan(data.subarray(c.headerLength));
      expect(counts(scanner)).toEqual({ messages: 1, bytes: c.length, controlFrames: 0 });
    });
  });

  it('reads frames that ws itself sends, masked and unmasked', () => {
    // ws exports its Sender at run time, but its type definitions do not declare it.
    const { Sender } = WebSocket as unknown as {
      Sender: { frame(data: Buffer, options: Record<string, unknown>): Buffer[] };
    };
    for (const length of [0, 125, 126, 65535, 65536]) {
      for (const mask of [true, false]) {
        const options = { fin: true, opcode: OP.binary, mask, readOnly: false, rsv1: false };
        const key = Buffer.from(KEY);
        const sent = Buffer.concat(
          Sender.frame(bytes(length), { ...options, maskBuffer: key, generateMask: () => {} }),
        );
        expect(sent.equals(frame(OP.binary, bytes(length), mask ? { key: KEY } : {}))).toBe(true);
        const scanner = mask ? fromClient() : fromServer();
        expect(scanner.scan(sent)).toBe(ScanResult.Ok);
        expect(counts(scanner)).toEqual({ messages: 1, bytes: length, controlFrames: 0 });
      }
    }
  });

  describe('fragmented messages', () => {
    it('counts a message once, at its final frame, with every fragment`s bytes', () => {
      const scanner = fromClient();
      scanner.scan(masked(OP.text, bytes(3), { fin: false }));
      scanner.scan(masked(OP.continuation, bytes(0), { fin: false }));
      expect(counts(scanner)).toEqual({ messages: 0, bytes: 3, controlFrames: 0 });
      scanner.scan(masked(OP.continuation, bytes(5)));
      expect(counts(scanner)).toEqual({ messages: 1, bytes: 8, controlFrames: 0 });
    });

    it('counts control frames between fragments as control frames only', () => {
      const scanner = fromServer();
      const data = Buffer.concat([
        frame(OP.binary, bytes(200), { fin: false }),
        frame(OP.ping, bytes(4)),
        frame(OP.pong, bytes(0)),
        frame(OP.close, closeBody(1000)),
        frame(OP.continuation, bytes(70000)),
      ]);
      expect(scanner.scan(data)).toBe(ScanResult.Close);
      expect(counts(scanner)).toEqual({ messages: 1, bytes: 70200, controlFrames: 3 });
    });
  });

  describe('frame and message boundaries', () => {
    it('are both reported between whole messages, only frame boundaries between fragments', () => {
      const scanner = fromClient();
      const seen = () => [scanner.atFrameBoundary, scanner.betweenMessages];
      expect(seen()).toEqual([true, true]);
      const first = masked(OP.text, bytes(10), { fin: false });
      scanner.scan(first.subarray(0, 3));
      expect(seen()).toEqual([false, false]);
      scanner.scan(first.subarray(3, 8));
      expect(seen()).toEqual([false, false]);
      scanner.scan(first.subarray(8));
      expect(seen()).toEqual([true, false]);
      scanner.scan(masked(OP.ping, bytes(2)));
      expect(seen()).toEqual([true, false]);
      const last = masked(OP.continuation, bytes(4));
      scanner.scan(last.subarray(0, 7));
      expect(seen()).toEqual([false, false]);
      scanner.scan(last.subarray(7));
      expect(seen()).toEqual([true, true]);
    });
  });

  describe('close frames', () => {
    it.each([
      {
        name: 'masked, with a reason',
        scanner: fromClient,
        key: KEY,
        body: closeBody(1000, 'bye'),
      },
      { name: 'unmasked, code only', scanner: fromServer, key: undefined, body: closeBody(4001) },
    ])('reports the code of a close frame $name', ({ scanner: create, key, body }) => {
      const scanner = create();
      expect(scanner.closeCode).toBe(0);
      expect(scanner.scan(frame(OP.close, body, key ? { key } : {}))).toBe(ScanResult.Close);
      expect(scanner.closeCode).toBe(body.readUInt16BE(0));
      expect(scanner.closeReason).toBe(body.subarray(2).toString());
      expect(counts(scanner)).toEqual({ messages: 0, bytes: 0, controlFrames: 1 });
    });

    it('reports 1005 for a close frame without payload', () => {
      const scanner = fromClient();
      expect(scanner.scan(masked(OP.close, bytes(0)))).toBe(ScanResult.Close);
      expect(scanner.closeCode).toBe(1005);
    });

    it.each([true, false])(
      'reads a code and reason split across chunks at every offset (masked %s)',
      (m) => {
        const data = frame(OP.close, closeBody(3456, 'done'), m ? { key: KEY } : {});
        for (let k = 1; k < data.length; k++) {
          const scanner = m ? fromClient() : fromServer();
          const results = scanAll(scanner, cut(data, k));
          expect({ k, results, code: scanner.closeCode, reason: scanner.closeReason }).toEqual({
            k,
            results: [ScanResult.Ok, ScanResult.Close],
            code: 3456,
            reason: 'done',
          });
        }
      },
    );

    it('reports Close only in the scan where the close frame ended', () => {
      const scanner = fromServer();
      const data = frame(OP.close, closeBody(1001, 'going away'));
      expect(scanner.scan(data.subarray(0, 5))).toBe(ScanResult.Ok);
      expect(scanner.atFrameBoundary).toBe(false);
      expect(scanner.scan(data.subarray(5))).toBe(ScanResult.Close);
      expect(scanner.scan(frame(OP.ping, bytes(0)))).toBe(ScanResult.Ok);
      expect([scanner.closeCode, scanner.closeReason]).toEqual([1001, 'going away']);
    });

    it('reads the longest reason (123 bytes, multi-byte UTF-8) and keeps the last close frame`s', () => {
      const scanner = fromClient();
      const longest = `${'é'.repeat(60)}xyz`;
      expect(Buffer.byteLength(longest)).toBe(123);
      expect(scanner.scan(masked(OP.close, closeBody(4000, longest)))).toBe(ScanResult.Close);
      expect([scanner.closeCode, scanner.closeReason]).toEqual([4000, longest]);
      expect(scanner.scan(masked(OP.close, closeBody(1000)))).toBe(ScanResult.Close);
      expect([scanner.closeCode, scanner.closeReason]).toEqual([1000, '']);
    });
  });

  describe('violations', () => {
    const big = (length: number | bigint, options: FrameOptions = {}) =>
      frameHeader(OP.binary, length, { key: KEY, ...options });
    // `at`: how many header bytes the scanner needs to see the violation.
    const cases: {
      name: string;
      options?: Partial<FrameScannerOptions>;
      before?: Buffer[];
      bad: Buffer;
      code: number;
      at: number;
    }[] = [
      {
        name: 'RSV1 without compression',
        bad: masked(OP.text, bytes(1), { rsv: 0x40 }),
        code: 1002,
        at: 2,
      },
      ...[0x20, 0x10, 0x60].map((rsv) => ({
        name: `RSV bits 0x${rsv.toString(16)} with compression`,
        options: { compressed: true },
        bad: masked(OP.binary, bytes(1), { rsv }),
        code: 1002,
        at: 2,
      })),
      {
        name: 'RSV1 on a continuation frame',
        options: { compressed: true },
        before: [masked(OP.text, bytes(2), { fin: false, rsv: 0x40 })],
        bad: masked(OP.continuation, bytes(2), { rsv: 0x40 }),
        code: 1002,
        at: 2,
      },
      {
        name: 'RSV1 on a control frame',
        options: { compressed: true },
        bad: masked(OP.ping, bytes(2), { rsv: 0x40 }),
        code: 1002,
        at: 2,
      },
      ...[3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf].map((opcode) => ({
        name: `opcode 0x${opcode.toString(16)}`,
        bad: masked(opcode, bytes(1)),
        code: 1002,
        at: 2,
      })),
      {
        name: 'a fragmented ping',
        bad: masked(OP.ping, bytes(1), { fin: false }),
        code: 1002,
        at: 2,
      },
      { name: 'a pong of 126 bytes', bad: masked(OP.pong, bytes(126)), code: 1002, at: 2 },
      { name: 'a close frame of 1 byte', bad: masked(OP.close, bytes(1)), code: 1002, at: 2 },
      {
        name: 'a continuation without a message',
        before: [masked(OP.text, bytes(1))],
        bad: masked(OP.continuation, bytes(1)),
        code: 1002,
        at: 2,
      },
      {
        name: 'a new message inside a fragmented one',
        before: [masked(OP.binary, bytes(1), { fin: false }), masked(OP.ping, bytes(0))],
        bad: masked(OP.text, bytes(1)),
        code: 1002,
        at: 2,
      },
      { name: 'an unmasked client frame', bad: frame(OP.binary, bytes(3)), code: 1002, at: 2 },
      {
        name: 'a masked server frame',
        options: { masked: false },
        bad: masked(OP.binary, bytes(3)),
        code: 1002,
        at: 2,
      },
      {
        name: 'a frame over max_message_size',
        options: { maxMessageSize: 1000 },
        before: [masked(OP.binary, bytes(1000))],
        bad: big(1001),
        code: 1009,
        at: 4,
      },
      {
        name: 'a fragmented message crossing max_message_size at a later fragment',
        options: { maxMessageSize: 70000 },
        before: [
          masked(OP.text, bytes(65536), { fin: false }),
          masked(OP.ping, bytes(125)),
          masked(OP.continuation, bytes(4464), { fin: false }),
        ],
        bad: masked(OP.continuation, bytes(1)),
        code: 1009,
        at: 2,
      },
      { name: 'a 64-bit length with the top bit set', bad: big(2n ** 63n), code: 1002, at: 10 },
      { name: 'a length over 2^53 - 1', bad: big(2n ** 53n), code: 1009, at: 10 },
    ];

    it.each(cases)('$name: $code at the frame`s offset', (c) => {
      const before = Buffer.concat(c.before ?? []);
      const scanner = fromClient(c.options);
      const data = Buffer.concat([before, c.bad, masked(OP.text, bytes(5))]);
      expect(scanner.scan(data)).toBe(ScanResult.Violation);
      expect([scanner.violationCode, scanner.violationOffset]).toEqual([c.code, before.length]);
      expect(scanner.messages).toBe((c.before ?? []).filter(isFinalData).length);
      expect(scanner.scan(masked(OP.text, bytes(5)))).toBe(ScanResult.Violation);
    });

    it.each(cases)('$name: seen as soon as its header bytes are, split anywhere', (c) => {
      const before = Buffer.concat(c.before ?? []);
      const headerLength = headerLengthOf(c.bad);
      for (let k = 1; k < headerLength; k++) {
        const scanner = fromClient(c.options);
        const [first, second] = cut(Buffer.concat([before, c.bad]), before.length + k);
        const early = k >= c.at;
        expect({
          k,
          first: scanner.scan(first!),
          offset: early ? scanner.violationOffset : 0,
        }).toEqual({
          k,
          first: early ? ScanResult.Violation : ScanResult.Ok,
          offset: early ? before.length : 0,
        });
        if (early) continue;
        expect(scanner.scan(second!)).toBe(ScanResult.Violation);
        expect([scanner.violationCode, scanner.violationOffset]).toEqual([c.code, -k]);
      }
    });

    it.each([
      {
        name: 'RSV1 on the first frame with compression',
        frames: [
          masked(OP.text, bytes(9), { rsv: 0x40, fin: false }),
          masked(OP.continuation, bytes(1)),
        ],
      },
      { name: 'a frame of exactly max_message_size', frames: [masked(OP.binary, bytes(1000))] },
      {
        name: 'fragments adding up to max_message_size, with pings between',
        frames: [
          masked(OP.binary, bytes(600), { fin: false }),
          masked(OP.ping, bytes(125)),
          masked(OP.continuation, bytes(400)),
        ],
      },
    ])('allows $name', ({ frames }) => {
      const scanner = fromClient({ compressed: true, maxMessageSize: 1000 });
      expect(scanner.scan(Buffer.concat(frames))).toBe(ScanResult.Ok);
      expect(scanner.messages).toBe(1);
    });
  });

  it('random frame sequences in random chunkings: counts, offsets and bytes out as in', () => {
    checkRandomSequences(300);
  });
});
