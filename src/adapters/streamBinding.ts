import { types } from 'node:util';

/**
 * Node's binding for stream handles (`process.binding('stream_wrap')`): the shared state a
 * TCP handle reports a read's length and a write's outcome in, and the request object a write
 * that has to wait is tracked by. It is what Node's own `net` code uses under `Socket`; rxproxy
 * uses it for the WebSocket tunnel's reads and writes, which then skip the stream machinery
 * (see `socketReads` and `socketWrites`). Absent, or of another shape, both fall back to the
 * socket's public API.
 */

/** A write request: what Node's C++ side keeps while a write waits, and calls `oncomplete` on. */
export interface WriteRequest {
  /** A method, so that a request type of its own may narrow `this`. */
  oncomplete(this: WriteRequest, status: number): void;
  /** Keeps a waiting write's bytes alive: the C++ side holds only a pointer to them. */
  buffer: Uint8Array | null;
}

export interface StreamBinding {
  readonly WriteWrap: new () => WriteRequest;
  /** Written by the handle on every read and write; read right after, before any other I/O. */
  readonly streamBaseState: Int32Array;
  readonly kReadBytesOrError: number;
  readonly kLastWriteWasAsync: number;
}

function load(): StreamBinding | undefined {
  // Deprecated (DEP0111), but still what exposes these. Its warning is emitted only under
  // --pending-deprecation, and thrown, after the call, under --throw-deprecation too.
  if (process.throwDeprecation) return undefined;
  try {
    // `binding` is not in @types/node.
    const node = process as unknown as { binding(name: string): Partial<StreamBinding> };
    const found = node.binding('stream_wrap');
    return typeof found.WriteWrap === 'function' &&
      types.isInt32Array(found.streamBaseState) &&
      typeof found.kReadBytesOrError === 'number' &&
      typeof found.kLastWriteWasAsync === 'number'
      ? (found as StreamBinding)
      : undefined;
  } catch {
    // A Node without it.
    return undefined;
  }
}

export const streamBinding: StreamBinding | undefined = load();
