import type { Duplex } from 'node:stream';
import { Observable, type Subscriber } from '../rx';
import { closeFrame, pingFrame } from '../net/wsControlFrames';
import { FrameScanner, ScanResult } from '../net/wsFrameScanner';
import type { TunnelEvent, TunnelSide } from '../streams/tunnelSession';
import { readSocket, type SocketReads } from './socketReads';
import { writeSocket, type SocketWrites, type WriteQueueOwner } from './socketWrites';

/** Above this many bytes queued toward a peer, the connection that feeds it stops being read. */
const HIGH_WATER_MARK = 1024 * 1024;
/** How long a connection that was sent a close frame may take to answer it before it is dropped. */
const CLOSE_TIMEOUT_MS = 10_000;

/**
 * The endpoint of each tunnelled socket, for the listeners all sockets share. Not a property on
 * the socket: one more property gives sockets another hidden class, and Node's own stream code
 * on the hot path then meets more shapes (measured: about 7 % more instructions per round trip).
 */
const endpoints = new WeakMap<Duplex, TunnelEndpoint>();
const endpointOf = (socket: Duplex): TunnelEndpoint => endpoints.get(socket)!;

export interface TunnelOptions {
  /** Largest message either way, compressed length with permessage-deflate; 0 = no limit. */
  readonly maxMessageSize: number;
  /** permessage-deflate was negotiated between the client and the backend. */
  readonly compressed: boolean;
}

/**
 * One connection of a WebSocket tunnel. The bytes it receives go to its peer's socket as they
 * came (each chunk as read, not re-framed), with a FrameScanner reading their frame headers on
 * the way: counts, close frames and violations. The proxy writes frames of its own (pings,
 * closes) only where the stream toward a peer is at a frame boundary.
 *
 * The hot path is `received`: a scan, a write and a check of the peer's queue, with no
 * allocation beyond the read's copy and no RxJS notification per chunk. `events$` carries the
 * lifecycle only (a close frame, a violation, the end), a handful of values per connection.
 */
export class TunnelEndpoint implements TunnelSide, WriteQueueOwner {
  readonly events$: Observable<TunnelEvent>;
  /** Reads what this peer sends. */
  private readonly scanner: FrameScanner;
  private peer: TunnelEndpoint = this;
  /** Frames may still be written to this peer: it was sent no close frame and is not ended. */
  private open = true;
  /** This peer has sent its close frame. */
  private closeReceived = false;
  /** This peer broke the protocol; whether the bytes forwarded before it end at a frame boundary. */
  private violated = false;
  private violationAtBoundary = true;
  /** Not read while its peer's queue is full. */
  private paused = false;
  /** Liveness: a byte arrived since the last heartbeat; the last heartbeat's ping was written. */
  private heard = false;
  private pinged = false;
  private error: string | undefined;
  private closeTimer: NodeJS.Timeout | undefined;
  private subscriber: Subscriber<TunnelEvent> | undefined;
  private reads: SocketReads | undefined;
  /** Writes to this peer, by its peer (what it relays) and by the proxy (pings, closes). */
  private readonly writes: SocketWrites;

  /** `fromClient`: this is the client's connection (its frames are masked, ours to it are not). */
  constructor(
    readonly socket: Duplex,
    private readonly fromClient: boolean,
    options: TunnelOptions,
  ) {
    this.scanner = new FrameScanner({ masked: fromClient, ...options });
    this.writes = writeSocket(socket, this);
    // One subscriber, the session: the adapter calls it directly rather than through a Subject.
    // No teardown (a closure per connection): a subscriber that unsubscribed is closed, and a
    // closed subscriber ignores what is still sent to it.
    this.events$ = new Observable<TunnelEvent>((subscriber) => {
      this.subscriber = subscriber;
    });
  }

  /** Makes `a` and `b` each other's peer. */
  static pair(a: TunnelEndpoint, b: TunnelEndpoint): void {
    a.peer = b;
    b.peer = a;
  }

  get messages(): number {
    return this.scanner.messages;
  }

  get bytes(): number {
    return this.scanner.bytes;
  }

  /** Starts reading, after relaying `head` (what arrived with the handshake). */
  start(head: Buffer): void {
    const { socket } = this;
    if (socket.closed) {
      this.closed();
      return;
    }
    endpoints.set(socket, this);
    // The hot read callback is the endpoint's own (no lookup per chunk); these listeners are
    // shared by all sockets, four closures per connection less to keep. They run with `this` as
    // the socket, which is how an EventEmitter calls its listeners.
    /* eslint-disable @typescript-eslint/unbound-method */
    socket.on('end', TunnelEndpoint.onEnd);
    socket.on('error', TunnelEndpoint.onError);
    socket.on('finish', TunnelEndpoint.onFinish);
    socket.on('close', TunnelEndpoint.onClose);
    /* eslint-enable @typescript-eslint/unbound-method */
    if (head.length > 0) this.received(head);
    this.reads = readSocket(socket, this.received);
  }

  close(code: number, reason: string): void {
    if (!this.open) return;
    this.open = false;
    // The stream toward this peer is what its peer sent; a frame of ours may only follow a whole one.
    if (!this.peer.forwardedToBoundary()) {
      this.drop();
      return;
    }
    this.writes.write(closeFrame(code, reason, !this.fromClient));
    this.closing();
    if (this.closeReceived || this.violated) this.finish();
    // Its answer must be read; nothing goes to it any more, so its peer may be read too.
    this.resumeReading();
    this.peer.resumeReading();
  }

  /** Pings this peer; one that sent nothing since the previous ping is dropped. */
  heartbeat(): void {
    if (!this.open) return;
    // A connection that is not read, or whose ping waited in a queue, had no chance to answer.
    if (this.pinged && !this.heard && !this.paused) {
      this.drop();
      return;
    }
    this.heard = false;
    this.pinged = false;
    if (!this.peer.forwardedToBoundary()) return;
    this.pinged = this.writes.write(pingFrame(!this.fromClient)) === 0;
  }

  /** Closes the connection at once, without a close frame. */
  drop(): void {
    this.open = false;
    this.socket.destroy();
  }

  private forwardedToBoundary(): boolean {
    return this.violated ? this.violationAtBoundary : this.scanner.atFrameBoundary;
  }

  private static readonly onEnd = function (this: Duplex): void {
    endpointOf(this).ended();
  };

  private static readonly onError = function (this: Duplex, error: Error): void {
    endpointOf(this).error ??= error.message;
  };

  /** Its queue is empty: the peer that feeds it may be read again. */
  writesDrained(): void {
    this.peer.resumeReading();
  }

  /**
   * Without this, a peer that keeps its side of the connection open after the close handshake
   * would hold the socket until the close timeout, though nothing more may arrive.
   */
  private static readonly onFinish = function (this: Duplex): void {
    this.destroy();
  };

  private static readonly onClose = function (this: Duplex): void {
    endpointOf(this).closed();
  };

  private readonly received = (chunk: Buffer): void => {
    this.heard = true;
    if (this.violated) return;
    const result = this.scanner.scan(chunk);
    if (result === ScanResult.Violation) {
      this.violation(chunk);
      return;
    }
    const peer = this.peer;
    if (peer.open && peer.writes.write(chunk) > HIGH_WATER_MARK && !this.paused) {
      this.paused = true;
      this.reads?.pause();
    }
    if (result === ScanResult.Close) this.closeFrameReceived();
  };

  private violation(chunk: Buffer): void {
    const offset = this.scanner.violationOffset;
    this.violated = true;
    this.violationAtBoundary = offset >= 0;
    if (offset > 0 && this.peer.open) this.peer.writes.write(chunk.subarray(0, offset));
    this.subscriber?.next({ type: 'violation', code: this.scanner.violationCode });
  }

  /** This peer's close frame has passed: to its peer, unless the proxy had closed that one. */
  private closeFrameReceived(): void {
    const peer = this.peer;
    this.closeReceived = true;
    if (peer.open) {
      peer.open = false;
      peer.closing();
    }
    const { closeCode, closeReason } = this.scanner;
    this.subscriber?.next({ type: 'close', code: closeCode, reason: closeReason });
    // A connection whose close frames have gone both ways has nothing more to carry.
    if (!this.open) this.finish();
    if (peer.closeReceived) peer.finish();
  }

  /** A close frame went to this peer, or it is ended: it has a while to finish. */
  private closing(): void {
    this.closeTimer ??= setTimeout(() => this.drop(), CLOSE_TIMEOUT_MS);
    this.closeTimer.unref();
  }

  /** Ends the connection; it is destroyed once its last bytes are written ('finish'). */
  private finish(): void {
    this.open = false;
    this.closing();
    if (!this.socket.writableEnded) this.socket.end();
  }

  private resumeReading(): void {
    if (!this.paused) return;
    this.paused = false;
    this.reads?.resume();
  }

  /**
   * The peer sent its FIN: before its close frame the connection is lost. After it, the answer
   * to that close frame is still passed on if the connection can carry it (a browser ends its
   * HTTP/2 stream right after its close frame, and reports the close as clean only with the
   * answer); the connection ends once it has gone, or at the close timeout.
   */
  private ended(): void {
    if (!this.closeReceived) this.drop();
    else if (this.open && this.socket.allowHalfOpen && !this.peer.closeReceived) this.closing();
    else this.finish();
  }

  private closed(): void {
    clearTimeout(this.closeTimer);
    this.open = false;
    this.peer.resumeReading();
    const subscriber = this.subscriber;
    if (!subscriber) return;
    subscriber.next(
      this.error === undefined ? { type: 'gone' } : { type: 'gone', error: this.error },
    );
    subscriber.complete();
  }
}
