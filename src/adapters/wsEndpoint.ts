import type { Duplex } from 'node:stream';
import { Observable } from 'rxjs';
import type { RawData, WebSocket } from 'ws';
import type { WsEndpoint, WsEvent, WsMessage } from '../streams/wsSession';

/** Above this many buffered bytes the other side is paused; below the low mark it resumes. */
export const HIGH_WATER_MARK = 1024 * 1024;
export const LOW_WATER_MARK = 256 * 1024;

const BINARY = { binary: true } as const;
const TEXT = { binary: false } as const;

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** A `ws` socket as one side of a session, with liveness and activity kept in plain fields. */
export class SocketEndpoint implements WsEndpoint {
  /** Messages received; the idle sweep compares it between sweeps. */
  activity = 0;
  /** Whether a pong arrived since the last ping. */
  alive = true;
  private drained: (() => void) | undefined;
  readonly events$: Observable<WsEvent>;

  /**
   * `transport` is the TCP socket under `socket`. `ws` ends its side of it once the close
   * handshake is over (both close frames exchanged, or the peer's FIN), then waits up to 30 s for
   * the peer to close its side before reporting the close. A peer that keeps its side open would
   * hold the relay's close, and both descriptors, until then: nothing more may arrive, so the
   * socket is destroyed as soon as its last bytes are written.
   */
  constructor(
    readonly socket: WebSocket,
    transport: Duplex,
  ) {
    transport.once('finish', () => transport.destroy());
    socket.on('pong', () => {
      this.alive = true;
    });
    this.events$ = new Observable<WsEvent>((subscriber) => {
      const onMessage = (data: RawData, isBinary: boolean) => {
        this.activity++;
        subscriber.next({ type: 'message', message: { data: toBuffer(data), isBinary } });
      };
      const onClose = (code: number, reason: Buffer) => {
        subscriber.next({ type: 'close', code, reason: reason.toString() });
        subscriber.complete();
      };
      const onError = (error: Error) => subscriber.error(error);
      socket.on('message', onMessage);
      socket.once('close', onClose);
      socket.on('error', onError);
      return () => {
        socket.off('message', onMessage);
        socket.off('close', onClose);
        socket.off('error', onError);
      };
    });
  }

  send(message: WsMessage): boolean {
    const { socket } = this;
    if (socket.readyState !== socket.OPEN) return true;
    // Only the message that crosses the high-water mark asks to be told when it is written:
    // by then everything before it is flushed, and its source is paused, so nothing follows.
    const over = socket.bufferedAmount + message.data.length >= HIGH_WATER_MARK;
    socket.send(message.data, message.isBinary ? BINARY : TEXT, over ? this.onFlushed : undefined);
    return !over;
  }

  whenDrained(callback: () => void): void {
    this.drained = callback;
    this.onFlushed();
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  close(code: number, reason: string): void {
    const { socket } = this;
    if (socket.readyState === socket.OPEN || socket.readyState === socket.CONNECTING) {
      socket.close(code, reason);
    }
  }

  /** Pings the peer; one that has not answered the previous ping is dropped. */
  heartbeat(): void {
    // A socket paused for backpressure cannot read its pong; it is not dead, only slow.
    if (this.socket.isPaused) {
      this.alive = true;
      return;
    }
    if (!this.alive) {
      this.socket.terminate();
      return;
    }
    this.alive = false;
    if (this.socket.readyState === this.socket.OPEN) this.socket.ping();
  }

  private readonly onFlushed = (): void => {
    if (!this.drained) return;
    if (
      this.socket.bufferedAmount > LOW_WATER_MARK &&
      this.socket.readyState === this.socket.OPEN
    ) {
      setTimeout(this.onFlushed, 1);
      return;
    }
    const drained = this.drained;
    this.drained = undefined;
    drained();
  };
}
