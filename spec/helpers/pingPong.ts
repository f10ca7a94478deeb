import { performance } from 'node:perf_hooks';
import { WebSocket } from 'ws';
import { sleep } from './waitUntil';

/** One WebSocket session through the proxy, from the client's side. */
export interface SessionRecord {
  readonly slot: number;
  /** The backend that greeted the session. */
  readonly backend: string;
  /** performance.now() when the greeting came. */
  readonly openedAt: number;
  echoes: number;
  /** Set when the session has ended. */
  closedAt?: number;
  code?: number;
  reason?: string;
  /** The client ended the session (a rotation or the end of the run). */
  byClient: boolean;
  /** The session is ending. */
  closing: boolean;
}

/** A handshake that failed, an echo that did not match or did not come. */
export interface SessionFailure {
  readonly slot: number;
  readonly at: number;
  readonly backend?: string;
  readonly what: string;
}

export interface PingPongOptions {
  readonly slots: number;
  /** Slots below this keep one session for the whole run; the others rotate. */
  readonly longLived: number;
  /**
   * Echoes after which the `session`th rotating session of `slot` is closed (1000) and a new one
   * opened.
   */
  readonly rotateAfter: (slot: number, session: number) => number;
  /** Pause between an echo and the next message. */
  readonly pauseMs: number;
  /** How long a greeting or an echo may take. */
  readonly timeoutMs: number;
  /** Most sessions a slot opens. */
  readonly maxSessionsPerSlot: number;
  readonly stop: () => boolean;
  /** While true, rotating sessions stay open: every slot settles on one open session. */
  readonly hold: () => boolean;
}

export interface PingPong {
  readonly sessions: SessionRecord[];
  /** Sessions greeted and neither closed nor being closed by the client. */
  open(): number;
  readonly failures: SessionFailure[];
  /** Resolves once every slot has stopped and its last session is closed. */
  readonly done: Promise<void>;
}

type Next = { kind: 'message'; text: string } | { kind: 'closed' } | { kind: 'timeout' };

/** A client socket read one message at a time. */
class Conversation {
  private readonly inbox: string[] = [];
  private waiter: ((next: Next) => void) | undefined;
  closed: { code: number; reason: string; at: number } | undefined;
  failure: string | undefined;

  constructor(readonly socket: WebSocket) {
    socket.on('message', (data: Buffer) => {
      this.inbox.push(data.toString());
      this.wake();
    });
    socket.on('unexpected-response', (_req, res) => {
      this.failure = `handshake answered ${res.statusCode ?? 0}`;
      res.resume();
      socket.terminate();
    });
    socket.on('error', (error) => {
      this.failure ??= error.message;
    });
    socket.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString(), at: performance.now() };
      this.wake();
    });
  }

  private wake(): void {
    const waiter = this.waiter;
    if (!waiter) return;
    const text = this.inbox.shift();
    if (text === undefined && !this.closed) return;
    this.waiter = undefined;
    waiter(text === undefined ? { kind: 'closed' } : { kind: 'message', text });
  }

  next(timeoutMs: number): Promise<Next> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        resolve({ kind: 'timeout' });
      }, timeoutMs);
      this.waiter = (next) => {
        clearTimeout(timer);
        resolve(next);
      };
      this.wake();
    });
  }

  /** Closes with 1000 and waits (bounded) for the close handshake; terminates after that. */
  async close(timeoutMs: number): Promise<void> {
    if (this.closed) return;
    this.socket.close(1000, 'done');
    const deadline = performance.now() + timeoutMs;
    while (!this.closed && performance.now() < deadline) await sleep(10);
    if (!this.closed) this.socket.terminate();
    while (!this.closed) await sleep(10);
  }
}

/**
 * `slots` concurrent WebSocket sessions through `url`: each sends a message, waits for its echo,
 * pauses, and again, until stopped. A session the proxy closes is followed by a new one.
 */
export function runPingPong(url: string, options: PingPongOptions): PingPong {
  const sessions: SessionRecord[] = [];
  const failures: SessionFailure[] = [];
  const slot = async (index: number) => {
    const rotating = index >= options.longLived;
    for (let n = 0; n < options.maxSessionsPerSlot && !options.stop(); n++) {
      const rotateAfter = options.rotateAfter(index, n);
      const talk = new Conversation(new WebSocket(`${url}/ws/${index}/${n}`));
      const greeting = await talk.next(options.timeoutMs);
      if (greeting.kind !== 'message') {
        const what = talk.failure ?? `no greeting (${greeting.kind}, ${talk.closed?.code ?? ''})`;
        failures.push({ slot: index, at: performance.now(), what });
        await talk.close(options.timeoutMs);
        await sleep(options.pauseMs);
        continue;
      }
      const record: SessionRecord = {
        slot: index,
        backend: greeting.text,
        openedAt: performance.now(),
        echoes: 0,
        byClient: false,
        closing: false,
      };
      sessions.push(record);
      const fail = (what: string) =>
        failures.push({ slot: index, at: performance.now(), backend: record.backend, what });
      while (!options.stop() && !(rotating && record.echoes >= rotateAfter && !options.hold())) {
        const message = `${index}:${n}:${record.echoes}`;
        talk.socket.send(message);
        const echo = await talk.next(options.timeoutMs);
        if (echo.kind === 'closed') break;
        if (echo.kind === 'timeout') fail(`no echo of ${message}`);
        else if (echo.text !== message) fail(`echo ${echo.text} for ${message}`);
        else record.echoes++;
        if (echo.kind !== 'message') break;
        await sleep(options.pauseMs);
      }
      record.byClient = talk.closed === undefined;
      record.closing = true;
      await talk.close(options.timeoutMs);
      record.closedAt = talk.closed?.at;
      record.code = talk.closed?.code;
      record.reason = talk.closed?.reason;
    }
  };
  const done = Promise.all(Array.from({ length: options.slots }, (_, i) => slot(i))).then(
    () => undefined,
  );
  const open = () =>
    sessions.filter((session) => session.closedAt === undefined && !session.closing).length;
  return { sessions, failures, done, open };
}
