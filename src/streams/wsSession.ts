import { Observable, Subscription } from 'rxjs';

/** One WebSocket message; text stays text and binary stays binary. */
export interface WsMessage {
  readonly data: Buffer;
  readonly isBinary: boolean;
}

/** What one side of a proxied WebSocket reports: messages, then its close (then completion). */
export type WsEvent =
  | { readonly type: 'message'; readonly message: WsMessage }
  | { readonly type: 'close'; readonly code: number; readonly reason: string };

/** One side of a session (the client's socket or the backend's), as an adapter exposes it. */
export interface WsEndpoint {
  /** Messages as they arrive, then one `close` and completion; errors when the socket fails. */
  readonly events$: Observable<WsEvent>;
  /** Sends a message; false when the socket's buffer is above its high-water mark. */
  send(message: WsMessage): boolean;
  /** Calls `callback` once the send buffer has drained below its low-water mark. */
  whenDrained(callback: () => void): void;
  /** Stops reading from the socket (backpressure), and starts again. */
  pause(): void;
  resume(): void;
  /** Sends a close frame with this code and reason. */
  close(code: number, reason: string): void;
}

export type WsSide = 'client' | 'backend';

/** How a session ended. */
export interface WsSessionEnd {
  readonly closedBy: WsSide;
  /** The code the closing side sent (1005 none, 1006 abnormal), or 1011 after an error. */
  readonly code: number;
  readonly reason: string;
  /** The error that ended it, if one did. */
  readonly error?: string;
  /** Messages and bytes relayed, by direction. */
  readonly clientToBackend: { readonly messages: number; readonly bytes: number };
  readonly backendToClient: { readonly messages: number; readonly bytes: number };
}

type Tally = { messages: number; bytes: number };
type Ending = Pick<WsSessionEnd, 'closedBy' | 'code' | 'reason' | 'error'>;

const NORMAL = 1000;
const NO_STATUS = 1005;
const ABNORMAL = 1006;
const INTERNAL_ERROR = 1011;

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

/**
 * Relays messages both ways between a client and a backend, pausing a side while the other's
 * send buffer is full. Emits one end value and completes when either side closes, fails or
 * completes, after closing the other side with a sendable code. A failure is a value, never an
 * error; unsubscribing early closes nothing.
 *
 * The two pumps are plain subscribers under one Observable rather than operator chains: a
 * session lives as long as its connection, and each operator would keep its own subscriber and
 * closures alive for every open WebSocket.
 */
export function wsSession(client: WsEndpoint, backend: WsEndpoint): Observable<WsSessionEnd> {
  return new Observable<WsSessionEnd>((subscriber) => {
    const clientToBackend: Tally = { messages: 0, bytes: 0 };
    const backendToClient: Tally = { messages: 0, bytes: 0 };
    const pumps = new Subscription();
    let ended = false;

    const end = (ending: Ending): void => {
      if (ended) return;
      ended = true;
      pumps.unsubscribe();
      (ending.closedBy === 'client' ? backend : client).close(
        closeCodeFor(ending.code),
        ending.reason,
      );
      subscriber.next({
        ...ending,
        clientToBackend: { ...clientToBackend },
        backendToClient: { ...backendToClient },
      });
      subscriber.complete();
    };

    const pump = (closedBy: WsSide, from: WsEndpoint, to: WsEndpoint, tally: Tally): void => {
      let paused = false;
      const resume = (): void => {
        paused = false;
        from.resume();
      };
      const fail = (error: unknown): void =>
        end({ closedBy, code: INTERNAL_ERROR, reason: '', error: errorMessage(error) });
      pumps.add(
        from.events$.subscribe({
          next: (event) => {
            if (event.type === 'close') {
              end({ closedBy, code: event.code, reason: event.reason });
              return;
            }
            tally.messages++;
            tally.bytes += event.message.data.length;
            try {
              if (!to.send(event.message) && !paused) {
                paused = true;
                from.pause();
                to.whenDrained(resume);
              }
            } catch (error) {
              fail(error);
            }
          },
          error: fail,
          complete: () => end({ closedBy, code: ABNORMAL, reason: '' }),
        }),
      );
    };

    pump('client', client, backend, clientToBackend);
    if (!ended) pump('backend', backend, client, backendToClient);
    return pumps;
  });
}
