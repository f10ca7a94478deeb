import { createHash, randomBytes } from 'node:crypto';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { waitUntil } from './waitUntil';

/** RFC 6455's sample key and the accept value it must produce. */
export const SAMPLE_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
export const SAMPLE_ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';

export const CLOSE = 0x8;

export interface Frame {
  readonly opcode: number;
  /** Unmasked. */
  readonly payload: Buffer;
  readonly masked: boolean;
}

/**
 * One side of a hand-made WebSocket connection: its socket and the bytes after the HTTP head. The
 * socket stays open when the other side ends its half (it is half-open), as a lingering peer's does.
 */
export interface RawPeer {
  readonly socket: Socket;
  /** The other side's HTTP head (request or response), without the blank line. */
  readonly head: string;
  /** Bytes received after the head. */
  readonly after: () => Buffer;
  /** When the other side ended its half of the TCP connection (FIN), if it has. */
  readonly endedAt: () => number | undefined;
}

/** A frame of fewer than 126 payload bytes: masked as a client sends it unless told otherwise. */
export function clientFrame(
  opcode: number,
  payload: Buffer,
  { rsv = 0, masked = true }: { rsv?: number; masked?: boolean } = {},
): Buffer {
  if (payload.length >= 126) throw new Error('only short frames are built here');
  const mask = masked ? randomBytes(4) : Buffer.alloc(0);
  const body = Buffer.from(payload);
  if (masked) {
    for (let i = 0; i < body.length; i++) body[i] = (body[i] ?? 0) ^ (mask[i % 4] ?? 0);
  }
  const first = 0x80 | (rsv << 4) | opcode;
  const second = (masked ? 0x80 : 0) | payload.length;
  return Buffer.concat([Buffer.from([first, second]), mask, body]);
}

/** A close frame's payload: the code, then the reason. */
export function closePayload(code: number, reason: string): Buffer {
  const payload = Buffer.alloc(2);
  payload.writeUInt16BE(code, 0);
  return Buffer.concat([payload, Buffer.from(reason)]);
}

/** The frames in `bytes`, in order, up to the first incomplete one (payloads under 64 KiB). */
export function framesIn(bytes: Buffer): Frame[] {
  const frames: Frame[] = [];
  let offset = 0;
  while (bytes.length - offset >= 2) {
    const first = bytes[offset] ?? 0;
    const second = bytes[offset + 1] ?? 0;
    let length = second & 0x7f;
    let start = offset + 2;
    if (length === 127) throw new Error('unexpectedly long frame');
    if (length === 126) {
      if (bytes.length < offset + 4) break;
      length = bytes.readUInt16BE(offset + 2);
      start = offset + 4;
    }
    const mask = (second & 0x80) !== 0 ? bytes.subarray(start, start + 4) : undefined;
    if (mask) start += 4;
    if (bytes.length < start + length) break;
    const payload = Buffer.from(bytes.subarray(start, start + length));
    if (mask) for (let i = 0; i < length; i++) payload[i] = (payload[i] ?? 0) ^ (mask[i % 4] ?? 0);
    frames.push({ opcode: first & 0x0f, payload, masked: mask !== undefined });
    offset = start + length;
  }
  return frames;
}

/** Resolves with the first frame `peer` received with this opcode. */
export async function frameFrom(peer: RawPeer, opcode: number, withinMs = 3000): Promise<Frame> {
  const find = () => framesIn(peer.after()).find((frame) => frame.opcode === opcode);
  await waitUntil(() => find() !== undefined || peer.socket.destroyed, 'a frame', withinMs);
  const frame = find();
  if (!frame) throw new Error(`the connection closed without a frame of opcode ${opcode}`);
  return frame;
}

/** Records everything `socket` receives, split at the end of the HTTP head. */
function record(socket: Socket): {
  head: () => string | undefined;
  after: () => Buffer;
  endedAt: () => number | undefined;
} {
  let buffered = Buffer.alloc(0);
  let headEnd = -1;
  let endedAt: number | undefined;
  socket.on('error', () => undefined);
  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    if (headEnd < 0) headEnd = buffered.indexOf('\r\n\r\n');
  });
  socket.on('end', () => {
    endedAt = Date.now();
  });
  return {
    head: () => (headEnd < 0 ? undefined : buffered.subarray(0, headEnd).toString('latin1')),
    after: () => (headEnd < 0 ? Buffer.alloc(0) : buffered.subarray(headEnd + 4)),
    endedAt: () => endedAt,
  };
}

export interface RawHandshakeOptions {
  readonly path?: string;
  readonly connection?: string;
  readonly key?: string;
  /** Extra request header lines, such as `Sec-WebSocket-Protocol: a, b`. */
  readonly headers?: readonly string[];
  /** Bytes sent in the same write as the request, right after it (frames). */
  readonly after?: Buffer;
  readonly withinMs?: number;
}

/**
 * A hand-made handshake over a raw TCP connection to 127.0.0.1:`port`; the socket stays open until
 * `onCleanup`'s callback runs.
 */
export async function rawHandshake(
  port: number,
  onCleanup: (cleanup: () => void) => void,
  {
    path = '/raw',
    connection = 'Upgrade',
    key = SAMPLE_KEY,
    headers = [],
    after = Buffer.alloc(0),
    withinMs = 5000,
  }: RawHandshakeOptions = {},
): Promise<RawPeer> {
  const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  onCleanup(() => socket.destroy());
  const received = record(socket);
  const extra = headers.map((line) => `${line}\r\n`).join('');
  const request =
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: ${connection}\r\n` +
    `Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${key}\r\n` +
    `${extra}\r\n`;
  socket.write(Buffer.concat([Buffer.from(request, 'latin1'), after]));
  await waitUntil(
    () => received.head() !== undefined || socket.destroyed,
    'the handshake response',
    withinMs,
  );
  const head = received.head();
  if (head === undefined) throw new Error('no handshake response');
  return { socket, head, after: received.after, endedAt: received.endedAt };
}

/** A backend that accepts every WebSocket handshake by hand, with `protocol` or no subprotocol. */
export interface RawWsBackend {
  readonly address: string;
  /** Accepted connections, in order; a test writes frames on them itself. */
  readonly peers: RawPeer[];
  close(): Promise<void>;
}

export interface RawWsBackendOptions {
  /** A `Sec-WebSocket-Extensions` answer, such as `permessage-deflate`. */
  readonly extensions?: string;
  /** Bytes sent in the same write as the 101, right after it (frames). */
  readonly after?: Buffer;
}

export async function startRawWsBackend(
  protocol?: string,
  { extensions, after = Buffer.alloc(0) }: RawWsBackendOptions = {},
): Promise<RawWsBackend> {
  const protocolLine = protocol === undefined ? '' : `Sec-WebSocket-Protocol: ${protocol}\r\n`;
  const extensionsLine =
    extensions === undefined ? '' : `Sec-WebSocket-Extensions: ${extensions}\r\n`;
  const peers: RawPeer[] = [];
  const sockets = new Set<Socket>();
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const received = record(socket);
    const answer = () => {
      const head = received.head();
      if (head === undefined) return;
      socket.off('data', answer);
      const key = /^sec-websocket-key:\s*(\S+)/im.exec(head)?.[1] ?? '';
      const accept = createHash('sha1')
        .update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
        .digest('base64');
      const response =
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Accept: ${accept}\r\n${protocolLine}${extensionsLine}\r\n`;
      socket.write(Buffer.concat([Buffer.from(response, 'latin1'), after]));
      peers.push({ socket, head, after: received.after, endedAt: received.endedAt });
    };
    socket.on('data', answer);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    peers,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}
