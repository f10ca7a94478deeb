import { Observable, Subscription, type Observer, type Subscriber } from '../rx';

/**
 * What one side of a WebSocket tunnel reports. Only the connection's lifecycle: the bytes
 * themselves go from socket to socket inside the adapter, without an event per chunk.
 */
export type TunnelEvent =
  /** This peer's close frame has passed (to the other side, unless the proxy had closed it). */
  | { readonly type: 'close'; readonly code: number; readonly reason: string }
  /** This peer broke the protocol (1002) or sent a message over max_message_size (1009). */
  | { readonly type: 'violation'; readonly code: number }
  /** This peer's connection is closed; `error` when a socket error ended it. */
  | { readonly type: 'gone'; readonly error?: string };

/** One side of a tunnel (the client's connection or the backend's), as an adapter exposes it. */
export interface TunnelSide {
  /** Lifecycle events, `gone` last; the adapter completes after `gone`. */
  readonly events$: Observable<TunnelEvent>;
  /** Data messages and their payload bytes received from this peer so far. */
  readonly messages: number;
  readonly bytes: number;
  /**
   * Sends the proxy's own close frame to this peer and ends the connection once the peer answers.
   * Nothing happens when a close frame was already sent to it; a connection that is not at a
   * frame boundary is dropped instead.
   */
  close(code: number, reason: string): void;
}

export type WsSide = 'client' | 'backend';

/** How a session ended. */
export interface WsSessionEnd {
  readonly closedBy: WsSide;
  /** The code of the first close frame, 1006 for a connection lost without one, 1011 after an error. */
  readonly code: number;
  readonly reason: string;
  /** The error or violation that ended it, if one did. */
  readonly error?: string;
  /** Messages and payload bytes relayed, by direction. */
  readonly clientToBackend: { readonly messages: number; readonly bytes: number };
  readonly backendToClient: { readonly messages: number; readonly bytes: number };
}

type Ending = Pick<WsSessionEnd, 'closedBy' | 'code' | 'reason' | 'error'>;

const NORMAL = 1000;
const GOING_AWAY = 1001;
const NO_STATUS = 1005;
const ABNORMAL = 1006;
const INTERNAL_ERROR = 1011;
const TOO_BIG = 1009;

/** The code to send on the other hop: codes that may not appear in a close frame become sendable. */
export function closeCodeFor(code: number): number {
  if (code === NO_STATUS) return NORMAL;
  const sendable =
    Number.isInteger(code) &&
    ((code >= 1000 && code <= 1003) ||
      (code >= 1007 && code <= 1014) ||
      (code >= 3000 && code <= 4999));
  return sendable ? code : INTERNAL_ERROR;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** What the two sides of one session share: the first ending and how many sides are gone. */
interface SessionState {
  readonly subscriber: Subscriber<WsSessionEnd>;
  readonly client: TunnelSide;
  readonly backend: TunnelSide;
  ending: Ending | undefined;
  gone: number;
}

/**
 * The session's observer of one side. A class rather than closures: an idle session keeps one
 * small object per side, where closures over the session's variables took a context and four
 * functions each.
 */
class SideWatch implements Observer<TunnelEvent> {
  private ended = false;

  constructor(
    private readonly session: SessionState,
    private readonly side: WsSide,
    private readonly self: TunnelSide,
    private readonly other: TunnelSide,
  ) {}

  next(event: TunnelEvent): void {
    const { session, side } = this;
    if (event.type === 'close') {
      session.ending ??= { closedBy: side, code: event.code, reason: event.reason };
    } else if (event.type === 'violation') {
      const error = event.code === TOO_BIG ? 'message too big' : 'protocol violation';
      session.ending ??= { closedBy: side, code: event.code, reason: '', error };
      this.self.close(event.code, '');
      this.other.close(GOING_AWAY, 'going away');
    } else {
      this.end(event.error);
    }
  }

  error(error: unknown): void {
    this.end(errorMessage(error));
  }

  complete(): void {
    this.end(undefined);
  }

  private end(error: string | undefined): void {
    if (this.ended) return;
    this.ended = true;
    const session = this.session;
    const ending = (session.ending ??= {
      closedBy: this.side,
      code: error === undefined ? ABNORMAL : INTERNAL_ERROR,
      reason: '',
      ...(error === undefined ? {} : { error }),
    });
    // The other side gets a close frame unless it already has one (the adapter then does
    // nothing): after an abnormal end, or when the other side closed first and this one was
    // lost before its answer.
    this.other.close(closeCodeFor(ending.code), ending.reason);
    if (++session.gone < 2) return;
    const { client, backend, subscriber } = session;
    subscriber.next({
      ...ending,
      clientToBackend: { messages: client.messages, bytes: client.bytes },
      backendToClient: { messages: backend.messages, bytes: backend.bytes },
    });
    subscriber.complete();
  }
}

/**
 * The lifecycle of one tunnelled WebSocket: who closed first and with what, the proxy's own close
 * frames when a side breaks the protocol (its code to that side, 1001 to the other) or is lost
 * (1011, or the code it had sent, to the other), and one end value, with the counts, once both
 * connections are gone. A close frame from either side needs nothing here: it passes through the
 * tunnel and each connection ends when its close handshake is complete. A failure is a value,
 * never an error; unsubscribing early closes nothing.
 */
export function tunnelSession(client: TunnelSide, backend: TunnelSide): Observable<WsSessionEnd> {
  return new Observable<WsSessionEnd>((subscriber) => {
    const session: SessionState = { subscriber, client, backend, ending: undefined, gone: 0 };
    const sides = new Subscription();
    sides.add(client.events$.subscribe(new SideWatch(session, 'client', client, backend)));
    sides.add(backend.events$.subscribe(new SideWatch(session, 'backend', backend, client)));
    return sides;
  });
}
