// Imported: the global `Buffer` costs a global lookup on every read.
import { Buffer } from 'node:buffer';
import type { Duplex } from 'node:stream';
import { streamBinding } from './streamBinding';
import { tcpHandle, type TcpHandle } from './tcpHandle';

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

/** One buffer for every socket: each read is copied out of it before the next can happen. */
let sharedReadBuffer: Buffer | undefined;

/** The socket's handle while it has one (none once the socket is destroyed). */
function currentHandle(
  socket: Duplex,
): Pick<TcpHandle, 'reading' | 'readStart' | 'readStop'> | null {
  return (socket as unknown as { _handle: TcpHandle | null })._handle;
}

/**
 * A TCP socket's direct reads: one object per socket, its `pause` and `resume` methods and one
 * closure (the read callback the handle calls) rather than a closure per operation.
 */
class DirectReads implements SocketReads {
  readonly direct = true;
  private paused = false;

  constructor(private readonly socket: Duplex) {}

  pause(): void {
    if (this.paused) return;
    this.paused = true;
    const current = currentHandle(this.socket);
    if (current?.reading) {
      current.reading = false;
      current.readStop();
    }
  }

  resume(): void {
    this.paused = false;
    const current = currentHandle(this.socket);
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
 * The handle's read callback: bytes read into the shared buffer go to `received` as a copy;
 * the end of the stream and read errors go to Node's own callback, which turns them into the
 * socket's `'end'` or its destruction. Made apart from `readSocket`, so that what it keeps for
 * the socket's lifetime is the two functions.
 */
function readingInto(
  buffer: Buffer,
  received: (chunk: Buffer) => void,
  nodeOnread: TcpHandle['onread'],
  { streamBaseState, kReadBytesOrError }: NonNullable<typeof streamBinding>,
): TcpHandle['onread'] {
  return function (this: TcpHandle, arrayBuffer?: ArrayBuffer): unknown {
    const length = streamBaseState[kReadBytesOrError] ?? 0;
    if (length <= 0) return nodeOnread.call(this, arrayBuffer);
    const copy = Buffer.allocUnsafe(length);
    buffer.copy(copy, 0, 0, length);
    received(copy);
    return undefined;
  };
}

/**
 * Hands every chunk the socket receives to `received`, starting with what its Readable has
 * buffered. Where the socket is a plain TCP socket, its handle reads into one process-wide
 * buffer and calls rxproxy's callback in place of Node's: each chunk is copied out of the buffer
 * (small chunks into Node's shared pool), with no 64 KiB allocation, no Readable bookkeeping and
 * no `'data'` event per read. Elsewhere (TLS sockets included), `'data'` events.
 *
 * The socket's `'end'`, `'error'` and `'close'` events are emitted as before.
 */
export function readSocket(socket: Duplex, received: (chunk: Buffer) => void): SocketReads {
  const handle = tcpHandle(socket);
  if (!streamBinding || !handle) return dataEvents(socket, received);
  let chunk: unknown;
  while ((chunk = socket.read()) !== null) received(chunk as Buffer);
  sharedReadBuffer ??= Buffer.allocUnsafeSlow(READ_BUFFER_SIZE);
  handle.onread = readingInto(sharedReadBuffer, received, handle.onread, streamBinding);
  handle.useUserBuffer(sharedReadBuffer);
  const reads = new DirectReads(socket);
  reads.resume();
  return reads;
}
