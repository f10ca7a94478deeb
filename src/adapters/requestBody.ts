import type { IncomingMessage } from 'node:http';
import { PAYLOAD_TOO_LARGE, REQUEST_TIMEOUT, type ProxyAnswer } from '../forwarding/failures';

/** Memory that all buffered request bodies may hold together, in bytes. */
export class MemoryBudget {
  private used = 0;

  /** Settable: a reload applies a new request_buffer_total to bodies read from then on. */
  constructor(public total: number) {}

  reserve(bytes: number): boolean {
    if (this.used + bytes > this.total) return false;
    this.used += bytes;
    return true;
  }

  release(bytes: number): void {
    this.used -= bytes;
  }
}

export interface BodyLimits {
  /** Bodies up to this size are read completely before the request is routed; 0 = never. */
  readonly bufferSize: number;
  /** Largest body accepted; 0 = no limit. */
  readonly maxBodySize: number;
  /** A body that makes no progress this long fails with 408. */
  readonly timeoutMs: number;
  readonly budget: MemoryBudget;
}

export interface BodyOwner {
  /** The body can go upstream: read completely, or to be streamed from the request. */
  bodyReady(): void;
  /** The body stalled (408) or grew too large (413): no more of it may go upstream. */
  bodyFailed(reply: ProxyAnswer): void;
}

function declaredLength(req: IncomingMessage): number | undefined {
  const value = req.headers['content-length'];
  return value === undefined ? undefined : Number(value);
}

function ignoreError(): void {}

/**
 * A request body on its way upstream. Small bodies (and chunked ones until they outgrow the
 * buffer or the shared budget) are read into memory first, so that a slow client holds no
 * upstream worker; larger ones stream from the request, the chunks already read put back in
 * front. While bytes are expected, a stall timer runs; it is not the client's fault while the
 * request is paused (waiting for a worker, or for the backend to read).
 */
export class RequestBody {
  private readonly declared: number | undefined;
  private mode: 'idle' | 'buffering' | 'streaming' | 'done' = 'idle';
  private chunks: Buffer[] = [];
  /** Bytes delivered since the body started or since the read chunks were put back. */
  private received = 0;
  private reserved = 0;
  private listening = false;
  private buffered: Buffer | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly req: IncomingMessage,
    private readonly limits: BodyLimits,
    private readonly owner: BodyOwner,
  ) {
    this.declared = declaredLength(req);
  }

  /** Rejects a declared length over the limit, or starts buffering, or says the body streams. */
  start(): void {
    const { bufferSize, maxBodySize, budget } = this.limits;
    const declared = this.declared;
    this.req.on('error', ignoreError);
    if (maxBodySize > 0 && declared !== undefined && declared > maxBodySize) {
      this.fail(PAYLOAD_TOO_LARGE);
      return;
    }
    const buffers =
      bufferSize > 0 &&
      (declared === undefined || (declared <= bufferSize && budget.reserve(declared)));
    if (!buffers) {
      this.mode = 'streaming';
      this.owner.bodyReady();
      return;
    }
    if (declared !== undefined) this.reserved = declared;
    this.mode = 'buffering';
    this.listen();
  }

  /** The request headers for the backend: a body read whole is sent with its exact length. */
  upstreamHeaders(headers: string[]): string[] {
    if (this.buffered === undefined || this.declared !== undefined) return headers;
    return [...headers, 'content-length', String(this.buffered.length)];
  }

  /** What goes upstream: the buffer, or the request itself, watched from here on. */
  upstreamBody(): Buffer | IncomingMessage {
    if (this.buffered) return this.buffered;
    // Paused first, so that the watcher does not start the flow before the connection listens.
    this.req.pause();
    if (this.mode === 'streaming') this.listen();
    return this.req;
  }

  /** Stops watching and returns the buffer's memory to the budget. */
  dispose(): void {
    this.mode = 'done';
    this.stopWatching();
    this.chunks = [];
    this.buffered = undefined;
    this.limits.budget.release(this.reserved);
    this.reserved = 0;
  }

  private listen(): void {
    if (this.listening) return;
    this.listening = true;
    this.req.on('data', this.onData);
    this.req.on('end', this.onEnd);
    this.req.on('resume', this.onProgress);
    this.timer = setTimeout(this.onStall, this.limits.timeoutMs);
  }

  private stopWatching(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.listening) return;
    this.listening = false;
    this.req.off('data', this.onData);
    this.req.off('end', this.onEnd);
    this.req.off('resume', this.onProgress);
  }

  /** Bytes arrived, or the request flows again after a pause: the client has time anew. */
  private readonly onProgress = (): void => {
    this.timer?.refresh();
  };

  private readonly onData = (chunk: Buffer): void => {
    this.onProgress();
    this.received += chunk.length;
    const max = this.limits.maxBodySize;
    if (max > 0 && this.received > max) {
      this.fail(PAYLOAD_TOO_LARGE);
      return;
    }
    if (this.mode !== 'buffering') return;
    if (
      this.declared === undefined &&
      (this.received > this.limits.bufferSize || !this.limits.budget.reserve(chunk.length))
    ) {
      this.streamFrom(chunk);
      return;
    }
    if (this.declared === undefined) this.reserved += chunk.length;
    this.chunks.push(chunk);
  };

  /** The chunked body outgrew the buffer: what was read goes back in front of the rest. */
  private streamFrom(chunk: Buffer): void {
    this.req.pause();
    this.req.unshift(chunk);
    for (let i = this.chunks.length - 1; i >= 0; i--) this.req.unshift(this.chunks[i]);
    this.chunks = [];
    this.received = 0;
    this.limits.budget.release(this.reserved);
    this.reserved = 0;
    this.mode = 'streaming';
    this.owner.bodyReady();
  }

  private readonly onEnd = (): void => {
    const complete = this.mode === 'buffering';
    this.stopWatching();
    this.mode = 'done';
    if (!complete) return;
    const chunks = this.chunks;
    this.chunks = [];
    this.buffered = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, this.received);
    this.owner.bodyReady();
  };

  private readonly onStall = (): void => {
    // A paused request waits for a worker or for the backend, not for the client.
    if (this.req.readableFlowing !== true) {
      this.onProgress();
      return;
    }
    this.fail(REQUEST_TIMEOUT);
  };

  private fail(reply: ProxyAnswer): void {
    this.dispose();
    this.owner.bodyFailed(reply);
  }
}
