import type { Duplex } from 'node:stream';
import { getSystemErrorName } from 'node:util';
import { streamBinding, type StreamBinding, type WriteRequest } from './streamBinding';
import { tcpHandle, type TcpHandle } from './tcpHandle';

/** Told when a socket's queue of waiting writes has emptied. */
export interface WriteQueueOwner {
  writesDrained(): void;
}

/**
 * Writing to a socket. `write` returns the bytes now waiting to be sent; once that was above
 * zero, the owner is told when it is back to zero (for a Writable, its `'drain'`).
 */
export interface SocketWrites {
  readonly direct: boolean;
  write(chunk: Buffer): number;
  /** Bytes waiting to be sent. */
  queued(): number;
}

interface DirectWriteRequest extends WriteRequest {
  writes: DirectWrites | undefined;
}

function completed(this: DirectWriteRequest, status: number): void {
  const writes = this.writes;
  this.writes = undefined;
  this.buffer = null;
  writes?.completed(status);
}

function newRequest(binding: StreamBinding): DirectWriteRequest {
  const request = new binding.WriteWrap() as DirectWriteRequest;
  request.oncomplete = completed;
  request.buffer = null;
  request.writes = undefined;
  return request;
}

/**
 * The request every write that completes at once is made with: the handle only keeps (and
 * binds to its C++ side) the request of a write that has to wait, so it is replaced then.
 */
let idleRequest: DirectWriteRequest | undefined;

/** A libuv error code as the Error Node's stream would have been destroyed with. */
function writeError(status: number | undefined): NodeJS.ErrnoException {
  // A closed handle answers undefined; libuv's codes are negative.
  const code = status !== undefined && status < 0 ? getSystemErrorName(status) : 'EBADF';
  return Object.assign(new Error(`write ${code}`), { code, errno: status, syscall: 'write' });
}

/**
 * Writes straight through the socket's TCP handle, as Node's `net` code does under the stream
 * API: no Writable bookkeeping, no write request allocated for a write the kernel takes at once
 * (nearly all of them), and no `process.nextTick` after each. The socket's Writable is still
 * used to end it (its `end()` shuts down after the waiting writes) and for nothing else.
 */
class DirectWrites implements SocketWrites {
  readonly direct = true;
  /** Writes the handle is still sending. */
  private waiting = 0;

  constructor(
    private readonly socket: Duplex,
    private readonly handle: TcpHandle,
    private readonly binding: StreamBinding,
    private readonly owner: WriteQueueOwner,
  ) {}

  write(chunk: Buffer): number {
    const binding = this.binding;
    const request = (idleRequest ??= newRequest(binding));
    const status = this.handle.writeBuffer(request, chunk);
    if (status !== 0) {
      this.failed(status);
      return 0;
    }
    if (binding.streamBaseState[binding.kLastWriteWasAsync] === 0) return this.queued();
    request.writes = this;
    request.buffer = chunk;
    idleRequest = undefined;
    this.waiting++;
    return this.handle.writeQueueSize;
  }

  queued(): number {
    return this.waiting === 0 ? 0 : this.handle.writeQueueSize;
  }

  completed(status: number): void {
    this.waiting--;
    if (status < 0) this.failed(status);
    else if (this.waiting === 0) this.owner.writesDrained();
  }

  private failed(status: number | undefined): void {
    if (!this.socket.destroyed) this.socket.destroy(writeError(status));
  }
}

/** Writes through the socket's Writable, for a socket without a TCP handle. */
class StreamWrites implements SocketWrites {
  readonly direct = false;

  constructor(
    private readonly socket: Duplex,
    owner: WriteQueueOwner,
  ) {
    socket.on('drain', () => owner.writesDrained());
  }

  write(chunk: Buffer): number {
    this.socket.write(chunk);
    return this.socket.writableLength;
  }

  queued(): number {
    return this.socket.writableLength;
  }
}

/**
 * Writes to `socket`: straight through its handle where it is a plain TCP socket with nothing
 * waiting in its Writable, through the Writable elsewhere (TLS sockets, HTTP/2 streams). Either
 * way the owner is told when what waited has gone (with the Writable, at its `'drain'`).
 */
export function writeSocket(socket: Duplex, owner: WriteQueueOwner): SocketWrites {
  const handle = tcpHandle(socket);
  return streamBinding && handle && socket.writableLength === 0
    ? new DirectWrites(socket, handle, streamBinding, owner)
    : new StreamWrites(socket, owner);
}
