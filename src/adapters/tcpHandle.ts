import type { Duplex } from 'node:stream';
import { TLSSocket } from 'node:tls';
import type { WriteRequest } from './streamBinding';

/** The part of a TCP handle (Node's `TCPWrap`, a socket's `_handle`) direct reads and writes use. */
export interface TcpHandle {
  reading: boolean;
  readStart(): number;
  readStop(): number;
  useUserBuffer(buffer: Uint8Array): void;
  /** Called by the handle for every read, with `this` the handle (`onStreamRead` in Node). */
  onread: (this: TcpHandle, arrayBuffer?: ArrayBuffer) => unknown;
  /** 0, or a libuv error code; `undefined` once the handle is closed. */
  writeBuffer(request: WriteRequest, chunk: Uint8Array): number | undefined;
  /** Bytes of waiting writes. */
  readonly writeQueueSize: number;
}

const METHODS = ['readStart', 'readStop', 'useUserBuffer', 'writeBuffer'] as const;

/**
 * The TCP handle of a plain TCP socket. Not for a TLS socket: its handle (a TLSWrap) has the
 * same methods, but its reads and writes are the encrypted bytes' business. Nor for a socket
 * with an idle timeout, which Node refreshes on each read and write through the stream API.
 */
export function tcpHandle(socket: Duplex): TcpHandle | undefined {
  if (socket instanceof TLSSocket) return undefined;
  if ((socket as { timeout?: number }).timeout) return undefined;
  // `_handle` is not typed: the TCP handle of a net.Socket, absent on other Duplex streams.
  const handle = (socket as unknown as { _handle?: Partial<TcpHandle> | null })._handle;
  if (!handle || typeof handle.onread !== 'function' || !('writeQueueSize' in handle)) {
    return undefined;
  }
  return METHODS.every((method) => typeof handle[method] === 'function')
    ? (handle as TcpHandle)
    : undefined;
}
