// A small WebSocket frame encoder (RFC 6455 section 5.2) for tests and benchmarks: any length
// encoding, masked or not, with reserved bits and declared lengths that need not match the payload.

export const OP = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa };

export interface FrameOptions {
  readonly fin?: boolean;
  /** The RSV1-3 bits as they sit in the first byte (0x40 is RSV1). */
  readonly rsv?: number;
  /** The masking key; none: unmasked. */
  readonly key?: Buffer;
  /** The length written in the header instead of the payload's. */
  readonly length?: number | bigint;
}

/** The header alone: first byte, 7/16/64-bit length, masking key. */
export function frameHeader(opcode: number, length: number | bigint, options: FrameOptions = {}) {
  const { fin = true, rsv = 0, key } = options;
  const size = BigInt(length);
  const extra = size > 65535n ? 8 : size > 125n ? 2 : 0;
  const header = Buffer.alloc(2 + extra + (key ? 4 : 0));
  header[0] = (fin ? 0x80 : 0) | rsv | opcode;
  header[1] = (key ? 0x80 : 0) | (extra === 8 ? 127 : extra === 2 ? 126 : Number(size));
  if (extra === 2) header.writeUInt16BE(Number(size), 2);
  if (extra === 8) header.writeBigUInt64BE(size, 2);
  key?.copy(header, 2 + extra);
  return header;
}

/** A whole frame; the payload is masked with `options.key` when there is one. */
export function frame(opcode: number, payload: Buffer, options: FrameOptions = {}): Buffer {
  const header = frameHeader(opcode, options.length ?? payload.length, options);
  const body = Buffer.from(payload);
  const key = options.key;
  if (key) for (let i = 0; i < body.length; i++) body[i] = body[i]! ^ key[i & 3]!;
  return Buffer.concat([header, body]);
}

/** A close frame's payload: the code, then the reason. */
export function closeBody(code: number, reason = ''): Buffer {
  const body = Buffer.alloc(2 + Buffer.byteLength(reason));
  body.writeUInt16BE(code, 0);
  body.write(reason, 2);
  return body;
}
