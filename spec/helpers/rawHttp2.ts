import { connect, type TLSSocket } from 'node:tls';

/** Frame types (RFC 9113 6). */
export const FRAME = {
  DATA: 0x0,
  HEADERS: 0x1,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
  CONTINUATION: 0x9,
} as const;

/** Error codes (RFC 9113 7). */
export const H2_ERROR = {
  NO_ERROR: 0x0,
  PROTOCOL_ERROR: 0x1,
  INTERNAL_ERROR: 0x2,
  FRAME_SIZE_ERROR: 0x6,
  REFUSED_STREAM: 0x7,
  CANCEL: 0x8,
  COMPRESSION_ERROR: 0x9,
  ENHANCE_YOUR_CALM: 0xb,
} as const;

/** HEADERS / DATA flag: the last frame of the stream from this side. */
export const END_STREAM_FLAG = 0x1;
const END_STREAM = END_STREAM_FLAG;
const ACK = 0x1;
const END_HEADERS = 0x4;

export const CLIENT_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export interface Frame {
  readonly type: number;
  readonly flags: number;
  readonly streamId: number;
  readonly payload: Buffer;
}

export interface GoAway {
  readonly lastStreamId: number;
  readonly errorCode: number;
  readonly debug: string;
}

export function frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(streamId & 0x7fffffff, 5);
  return Buffer.concat([head, payload]);
}

/** An HPACK integer with an `n`-bit prefix whose high bits are `mask` (RFC 7541 5.1). */
function hpackInteger(value: number, n: number, mask: number): number[] {
  const max = (1 << n) - 1;
  if (value < max) return [mask | value];
  const bytes = [mask | max];
  let rest = value - max;
  while (rest >= 128) {
    bytes.push((rest % 128) + 128);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return bytes;
}

function hpackString(text: string): Buffer {
  const bytes = Buffer.from(text, 'latin1');
  return Buffer.concat([Buffer.from(hpackInteger(bytes.length, 7, 0)), bytes]);
}

/** A header block of "literal header field without indexing — new name" entries, no Huffman. */
export function hpackLiterals(headers: readonly (readonly [string, string])[]): Buffer {
  return Buffer.concat(
    headers.flatMap(([name, value]) => [
      Buffer.from([0x00]),
      hpackString(name),
      hpackString(value),
    ]),
  );
}

/** The header list of a GET for `path` on `authority`. */
export const getHeaders = (path: string, authority = 'proxy.test'): [string, string][] => [
  [':method', 'GET'],
  [':scheme', 'https'],
  [':authority', authority],
  [':path', path],
];

export const headersFrame = (streamId: number, block: Buffer, endStream = true): Buffer =>
  frame(FRAME.HEADERS, END_HEADERS | (endStream ? END_STREAM : 0), streamId, block);

export const rstStreamFrame = (streamId: number, code: number): Buffer => {
  const payload = Buffer.alloc(4);
  payload.writeUInt32BE(code);
  return frame(FRAME.RST_STREAM, 0, streamId, payload);
};

export const settingsFrame = (entries: readonly (readonly [number, number])[] = []): Buffer =>
  frame(
    FRAME.SETTINGS,
    0,
    0,
    Buffer.concat(
      entries.map(([id, value]) => {
        const entry = Buffer.alloc(6);
        entry.writeUInt16BE(id);
        entry.writeUInt32BE(value, 2);
        return entry;
      }),
    ),
  );

/** A raw HTTP/2 connection over TLS (ALPN h2) that writes whatever frames it is given. */
export interface RawHttp2 {
  readonly socket: TLSSocket;
  /** Every frame read so far, in order. */
  readonly frames: Frame[];
  /** Whether the peer or this side has closed the connection. */
  readonly closed: boolean;
  /** Resolves once the connection is closed (rejects after `withinMs`). */
  waitForClose(withinMs?: number): Promise<void>;
  /** The GOAWAY read, if any. */
  goAway(): GoAway | undefined;
  /** RST_STREAM error codes read, by stream id. */
  resets(): Map<number, number>;
  /** Stream ids answered with a HEADERS frame (a response head). */
  answered(): number[];
  write(bytes: Buffer): boolean;
  destroy(): void;
}

/**
 * Connects to `port` offering only `h2`. `preface` (the default) sends the client preface and an
 * empty SETTINGS frame first, and the server's SETTINGS are then acknowledged; nothing else is
 * automatic.
 */
export async function connectRawHttp2(
  port: number,
  ca: string,
  { preface = true }: { readonly preface?: boolean } = {},
): Promise<RawHttp2> {
  const socket = connect({
    host: '127.0.0.1',
    port,
    ca,
    servername: 'proxy.test',
    ALPNProtocols: ['h2'],
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', () => resolve());
    socket.once('error', reject);
  });
  if (socket.alpnProtocol !== 'h2') throw new Error(`ALPN chose ${String(socket.alpnProtocol)}`);
  const frames: Frame[] = [];
  let pending = Buffer.alloc(0);
  let closed = false;
  const closing = new Promise<void>((resolve) =>
    socket.once('close', () => {
      closed = true;
      resolve();
    }),
  );
  socket.on('error', () => undefined);
  socket.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 9) {
      const length = pending.readUIntBE(0, 3);
      if (pending.length < 9 + length) break;
      const read: Frame = {
        type: pending[3] ?? 0,
        flags: pending[4] ?? 0,
        streamId: pending.readUInt32BE(5) & 0x7fffffff,
        payload: pending.subarray(9, 9 + length),
      };
      pending = pending.subarray(9 + length);
      frames.push(read);
      if (preface && read.type === FRAME.SETTINGS && (read.flags & ACK) === 0 && socket.writable) {
        socket.write(frame(FRAME.SETTINGS, ACK, 0, Buffer.alloc(0)));
      }
    }
  });
  if (preface) socket.write(Buffer.concat([CLIENT_PREFACE, settingsFrame()]));
  return {
    socket,
    frames,
    get closed() {
      return closed;
    },
    waitForClose: (withinMs = 5000) =>
      Promise.race([
        closing,
        new Promise<never>((_resolve, reject) =>
          setTimeout(
            () => reject(new Error(`the connection was still open after ${withinMs} ms`)),
            withinMs,
          ).unref(),
        ),
      ]),
    goAway: () => {
      const found = frames.find((read) => read.type === FRAME.GOAWAY);
      if (!found) return undefined;
      return {
        lastStreamId: found.payload.readUInt32BE(0) & 0x7fffffff,
        errorCode: found.payload.readUInt32BE(4),
        debug: found.payload.subarray(8).toString('latin1'),
      };
    },
    resets: () =>
      new Map(
        frames
          .filter((read) => read.type === FRAME.RST_STREAM)
          .map((read) => [read.streamId, read.payload.readUInt32BE(0)]),
      ),
    answered: () =>
      frames.filter((read) => read.type === FRAME.HEADERS).map((read) => read.streamId),
    write: (bytes) => socket.write(bytes),
    destroy: () => socket.destroy(),
  };
}
