import {
  catchError,
  defaultIfEmpty,
  defer,
  filter,
  map,
  merge,
  of,
  take,
  tap,
  type Observable,
} from 'rxjs';

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

type WsClose = Extract<WsEvent, { readonly type: 'close' }>;
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

const isClose = (event: WsEvent): event is WsClose => event.type === 'close';

/**
 * Relays messages both ways between a client and a backend, pausing a side while the other's
 * send buffer is full. Emits one end value and completes when either side closes, fails or
 * completes, after closing the other side with a sendable code. A failure is a value, never an
 * error; unsubscribing early closes nothing.
 */
export function wsSession(client: WsEndpoint, backend: WsEndpoint): Observable<WsSessionEnd> {
  return defer(() => {
    const clientToBackend: Tally = { messages: 0, bytes: 0 };
    const backendToClient: Tally = { messages: 0, bytes: 0 };

    const pump = (
      closedBy: WsSide,
      from: WsEndpoint,
      to: WsEndpoint,
      tally: Tally,
    ): Observable<Ending> => {
      let paused = false;
      const resume = (): void => {
        paused = false;
        from.resume();
      };
      const relay = (event: WsEvent): void => {
        if (event.type !== 'message') return;
        tally.messages++;
        tally.bytes += event.message.data.length;
        if (!to.send(event.message) && !paused) {
          paused = true;
          from.pause();
          to.whenDrained(resume);
        }
      };
      return from.events$.pipe(
        tap(relay),
        filter(isClose),
        take(1),
        map(({ code, reason }): Ending => ({ closedBy, code, reason })),
        defaultIfEmpty<Ending, Ending>({ closedBy, code: ABNORMAL, reason: '' }),
        catchError((error: unknown) =>
          of<Ending>({
            closedBy,
            code: INTERNAL_ERROR,
            reason: '',
            error: error instanceof Error ? error.message : String(error),
          }),
        ),
      );
    };

    return merge(
      pump('client', client, backend, clientToBackend),
      pump('backend', backend, client, backendToClient),
    ).pipe(
      take(1),
      tap(({ closedBy, code, reason }) =>
        (closedBy === 'client' ? backend : client).close(closeCodeFor(code), reason),
      ),
      map((ending): WsSessionEnd => ({
        ...ending,
        clientToBackend: { ...clientToBackend },
        backendToClient: { ...backendToClient },
      })),
    );
  });
}
