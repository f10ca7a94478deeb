import { Socket, type SocketConstructorOpts } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';

/** What libuv is offered per read: Node's own default. */
const READ_BUFFER_SIZE = 64 * 1024;

/**
 * Reading a socket's bytes: paused and resumed by its owner. `direct` tells whether the
 * reads bypass the socket's Readable (see `readSocket`).
 */
export interface SocketReads {
  readonly direct: boolean;
  pause(): void;
  resume(): void;
}

/** The part of a TCP handle (Node's `TCPWrap`) that direct reads use. */
interface StreamHandle {
  reading: boolean;
  readStart(): number;
  readStop(): number;
  useUserBuffer(buffer: Uint8Array): void;
}

/** The keys under which a net.Socket keeps its `onread` option. */
interface OnreadKeys {
  readonly buffer: symbol;
  readonly callback: symbol;
  readonly generator: symbol;
}

/**
 * Found on a socket made with the `onread` option, the public way to read into a buffer of
 * one's own. A socket accepted by an HTTP server or handed over by an upgrade cannot be given
 * that option, but Node checks these keys on every read of any socket.
 */
function findOnreadKeys(): OnreadKeys | undefined {
  // The constructor takes `onread` as `connect` does; @types/node declares it for `connect` only.
  const onread = { buffer: Buffer.alloc(1), callback: () => true };
  const probe = new Socket({ onread } as SocketConstructorOpts);
  const keys = new Map(Object.getOwnPropertySymbols(probe).map((key) => [key.description, key]));
  probe.destroy();
  const buffer = keys.get('kBuffer');
  const callback = keys.get('kBufferCb');
  const generator = keys.get('kBufferGen');
  return buffer && callback && generator ? { buffer, callback, generator } : undefined;
}

const onreadKeys = findOnreadKeys();
/** One buffer for every socket: each read is copied out of it before the next can happen. */
let sharedReadBuffer: Buffer | undefined;

function streamHandle(socket: Duplex): StreamHandle | undefined {
  // A TLS socket's handle (a TLSWrap) has the same methods, but its reads are the encrypted
  // bytes' business: its plain bytes come only through the Readable.
  if (socket instanceof TLSSocket) return undefined;
  // `_handle` is not typed: the TCP handle of a net.Socket, absent on other Duplex streams.
  const handle = (socket as unknown as { _handle?: Partial<StreamHandle> | null })._handle;
  return handle &&
    typeof handle.useUserBuffer === 'function' &&
    typeof handle.readStart === 'function' &&
    typeof handle.readStop === 'function'
    ? (handle as StreamHandle)
    : undefined;
}

/**
 * A TCP socket's direct reads: one object per socket, its `pause` and `resume` methods and one
 * closure (the read callback Node calls) rather than a closure per operation.
 */
class DirectReads implements SocketReads {
  readonly direct = true;
  private paused = false;

  constructor(private readonly socket: Duplex) {}

  pause(): void {
    if (this.paused) return;
    this.paused = true;
    const current = streamHandle(this.socket);
    if (current?.reading) {
      current.reading = false;
      current.readStop();
    }
  }

  resume(): void {
    this.paused = false;
    const current = streamHandle(this.socket);
    if (current && !current.reading) {
      current.reading = true;
      current.readStart();
    }
  }
}

/** Reads through `'data'` events, for a socket without a TCP handle. */
function dataEvents(socket: Duplex, received: (chunk: Buffer) => void): SocketReads {
  socket.on('data', received);
  return {
    direct: false,
    pause: () => socket.pause(),
    resume: () => socket.resume(),
  };
}

/**
 * The read callback Node calls with the length read into the buffer. Made here, apart from
 * `readSocket`, so that what it keeps for the socket's lifetime is `received` alone.
 */
function copyingTo(received: (chunk: Buffer) => void) {
  return (length: number, buffer: Buffer): boolean => {
    const copy = Buffer.allocUnsafe(length);
    buffer.copy(copy, 0, 0, length);
    received(copy);
    return true;
  };
}

/**
 * Hands every chunk the socket receives to `received`, starting with what its Readable has
 * buffered. Where the socket is a plain TCP socket, reads go into one process-wide buffer and each
 * chunk is copied out of it (small chunks into Node's shared pool): no 64 KiB allocation, no
 * Readable bookkeeping and no `'data'` event per read. Elsewhere (TLS sockets included),
 * `'data'` events.
 *
 * The socket's `'end'`, `'error'` and `'close'` events are emitted as before.
 */
export function readSocket(socket: Duplex, received: (chunk: Buffer) => void): SocketReads {
  const handle = streamHandle(socket);
  if (!onreadKeys || !handle) return dataEvents(socket, received);
  let chunk: unknown;
  while ((chunk = socket.read()) !== null) received(chunk as Buffer);
  sharedReadBuffer ??= Buffer.allocUnsafeSlow(READ_BUFFER_SIZE);
  const slots = socket as unknown as Record<symbol, unknown>;
  slots[onreadKeys.buffer] = sharedReadBuffer;
  slots[onreadKeys.callback] = copyingTo(received);
  handle.useUserBuffer(sharedReadBuffer);
  const reads = new DirectReads(socket);
  reads.resume();
  return reads;
}
