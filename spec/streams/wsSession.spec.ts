import { of, tap, type Observable } from 'rxjs';
import {
  closeCodeFor,
  wsSession,
  type WsEvent,
  type WsMessage,
  type WsSessionEnd,
} from '../../src/streams/wsSession';
import { marbles } from '../helpers/marbles';

const text = (value: string): WsMessage => ({ data: Buffer.from(value), isBinary: false });
const binary = (...bytes: number[]): WsMessage => ({ data: Buffer.from(bytes), isBinary: true });
const message = (value: WsMessage): WsEvent => ({ type: 'message', message: value });
const close = (code: number, reason = ''): WsEvent => ({ type: 'close', code, reason });

const none = { messages: 0, bytes: 0 };
const ended = (
  end: Pick<WsSessionEnd, 'closedBy' | 'code'> & Partial<WsSessionEnd>,
): WsSessionEnd => ({ reason: '', clientToBackend: none, backendToClient: none, ...end });

/**
 * A scripted endpoint: `sends` are the results of successive send() calls (true once used up);
 * `drain()` invokes the callback last given to whenDrained; calls are recorded in `log`.
 */
function fakeEndpoint(
  name: string,
  events$: Observable<WsEvent>,
  sends: boolean[] = [],
  log: string[] = [],
) {
  let drained: (() => void) | undefined;
  return {
    events$,
    send: jest.fn((_message: WsMessage) => {
      const accepted = sends.shift() ?? true;
      log.push(`${name}.send ${accepted}`);
      return accepted;
    }),
    whenDrained: jest.fn((callback: () => void) => {
      log.push(`${name}.whenDrained`);
      drained = callback;
    }),
    pause: jest.fn(() => log.push(`${name}.pause`)),
    resume: jest.fn(() => log.push(`${name}.resume`)),
    close: jest.fn((_code: number, _reason: string) => log.push(`${name}.close`)),
    drain: () => drained?.(),
  };
}

describe('closeCodeFor', () => {
  it.each([
    [1000, 1000],
    [1001, 1001],
    [1003, 1003],
    [1004, 1011],
    [1005, 1000],
    [1006, 1011],
    [1007, 1007],
    [1011, 1011],
    [1014, 1014],
    [1015, 1011],
    [1016, 1011],
    [2999, 1011],
    [3000, 3000],
    [4001, 4001],
    [4999, 4999],
    [5000, 1011],
    [999, 1011],
    [0, 1011],
    [1000.5, 1011],
  ])('maps %d to %d', (code, sent) => {
    expect(closeCodeFor(code)).toBe(sent);
  });
});

describe('wsSession', () => {
  it('relays messages in order both ways, text as text and binary as binary, and counts them', () => {
    const a = text('hello');
    const b = binary(0, 1, 2);
    const c = text('ok');
    const x = binary(255);
    const y = text('world!');
    const { client, backend } = marbles(({ cold, expectObservable }) => {
      const client = fakeEndpoint(
        'client',
        cold<WsEvent>('a-b-c 6ms q', {
          a: message(a),
          b: message(b),
          c: message(c),
          q: close(1000),
        }),
      );
      const backend = fakeEndpoint(
        'backend',
        cold<WsEvent>('-x-y', { x: message(x), y: message(y) }),
      );
      expectObservable(wsSession(client, backend)).toBe('- 10ms (e|)', {
        e: ended({
          closedBy: 'client',
          code: 1000,
          clientToBackend: { messages: 3, bytes: 10 },
          backendToClient: { messages: 2, bytes: 7 },
        }),
      });
      return { client, backend };
    });
    const sent = (calls: [WsMessage][]) => calls.map(([sentMessage]) => sentMessage);
    expect(sent(backend.send.mock.calls)).toEqual([a, b, c]);
    sent(backend.send.mock.calls).forEach((sentMessage, i) =>
      expect(sentMessage).toBe([a, b, c][i]),
    );
    expect(sent(client.send.mock.calls)).toEqual([x, y]);
    sent(client.send.mock.calls).forEach((sentMessage, i) => expect(sentMessage).toBe([x, y][i]));
    expect(backend.close.mock.calls).toEqual([[1000, '']]);
    expect(client.close).not.toHaveBeenCalled();
  });

  it('passes a client close with 4001 "bye" to the backend and ends with both pumps unsubscribed', () => {
    const { client, backend } = marbles(({ cold, expectObservable, expectSubscriptions }) => {
      const clientEvents = cold<WsEvent>('-a 2ms q', {
        a: message(text('hi')),
        q: close(4001, 'bye'),
      });
      const backendEvents = cold<WsEvent>('-x 5ms y', {
        x: message(text('yo')),
        y: message(text('late')),
      });
      const client = fakeEndpoint('client', clientEvents);
      const backend = fakeEndpoint('backend', backendEvents);
      expectObservable(wsSession(client, backend)).toBe('- 3ms (e|)', {
        e: ended({
          closedBy: 'client',
          code: 4001,
          reason: 'bye',
          clientToBackend: { messages: 1, bytes: 2 },
          backendToClient: { messages: 1, bytes: 2 },
        }),
      });
      expectSubscriptions(clientEvents.subscriptions).toBe('^ 3ms !');
      expectSubscriptions(backendEvents.subscriptions).toBe('^ 3ms !');
      return { client, backend };
    });
    expect(backend.close.mock.calls).toEqual([[4001, 'bye']]);
    expect(client.close).not.toHaveBeenCalled();
    expect(client.send).toHaveBeenCalledTimes(1);
  });

  it('passes a backend close with 4001 "bye" to the client', () => {
    const { client, backend } = marbles(({ cold, expectObservable, expectSubscriptions }) => {
      const clientEvents = cold<WsEvent>('-');
      const backendEvents = cold<WsEvent>('--q', { q: close(4001, 'bye') });
      const client = fakeEndpoint('client', clientEvents);
      const backend = fakeEndpoint('backend', backendEvents);
      expectObservable(wsSession(client, backend)).toBe('--(e|)', {
        e: ended({ closedBy: 'backend', code: 4001, reason: 'bye' }),
      });
      expectSubscriptions(clientEvents.subscriptions).toBe('^-!');
      expectSubscriptions(backendEvents.subscriptions).toBe('^-!');
      return { client, backend };
    });
    expect(client.close.mock.calls).toEqual([[4001, 'bye']]);
    expect(backend.close).not.toHaveBeenCalled();
  });

  it('sends 1000 for a close without status (1005) and keeps 1005 in the end value', () => {
    const { backend } = marbles(({ cold, expectObservable }) => {
      const client = fakeEndpoint('client', cold<WsEvent>('-q', { q: close(1005) }));
      const backend = fakeEndpoint('backend', cold<WsEvent>('-'));
      expectObservable(wsSession(client, backend)).toBe('-(e|)', {
        e: ended({ closedBy: 'client', code: 1005 }),
      });
      return { backend };
    });
    expect(backend.close.mock.calls).toEqual([[1000, '']]);
  });

  it('sends 1011 for an abnormal close (1006) and keeps 1006 in the end value', () => {
    const { client } = marbles(({ cold, expectObservable }) => {
      const client = fakeEndpoint('client', cold<WsEvent>('-'));
      const backend = fakeEndpoint('backend', cold<WsEvent>('-q', { q: close(1006, 'gone') }));
      expectObservable(wsSession(client, backend)).toBe('-(e|)', {
        e: ended({ closedBy: 'backend', code: 1006, reason: 'gone' }),
      });
      return { client };
    });
    expect(client.close.mock.calls).toEqual([[1011, 'gone']]);
  });

  it('closes the client with 1011 at once when the backend fails, and ends with the error as a value', () => {
    const { client, backend } = marbles(({ cold, expectObservable, expectSubscriptions }) => {
      const clientEvents = cold<WsEvent>('a 5ms a', { a: message(text('ping')) });
      const backendEvents = cold<WsEvent>('--#', undefined, new Error('read ECONNRESET'));
      const client = fakeEndpoint('client', clientEvents);
      const backend = fakeEndpoint('backend', backendEvents);
      expectObservable(wsSession(client, backend)).toBe('--(e|)', {
        e: ended({
          closedBy: 'backend',
          code: 1011,
          error: 'read ECONNRESET',
          clientToBackend: { messages: 1, bytes: 4 },
        }),
      });
      expectSubscriptions(clientEvents.subscriptions).toBe('^-!');
      return { client, backend };
    });
    expect(client.close.mock.calls).toEqual([[1011, '']]);
    expect(backend.close).not.toHaveBeenCalled();
  });

  it('closes the backend with 1011 when the client vanishes', () => {
    const { client, backend } = marbles(({ cold, expectObservable }) => {
      const client = fakeEndpoint('client', cold<WsEvent>('-#', undefined, 'socket hang up'));
      const backend = fakeEndpoint('backend', cold<WsEvent>('-'));
      expectObservable(wsSession(client, backend)).toBe('-(e|)', {
        e: ended({ closedBy: 'client', code: 1011, error: 'socket hang up' }),
      });
      return { client, backend };
    });
    expect(backend.close.mock.calls).toEqual([[1011, '']]);
    expect(client.close).not.toHaveBeenCalled();
  });

  it('treats a side that completes without a close as an abnormal close (the other gets 1011)', () => {
    const { client } = marbles(({ cold, expectObservable }) => {
      const client = fakeEndpoint('client', cold<WsEvent>('-'));
      const backend = fakeEndpoint('backend', cold<WsEvent>('-x-|', { x: message(text('abc')) }));
      expectObservable(wsSession(client, backend)).toBe('---(e|)', {
        e: ended({ closedBy: 'backend', code: 1006, backendToClient: { messages: 1, bytes: 3 } }),
      });
      return { client };
    });
    expect(client.close.mock.calls).toEqual([[1011, '']]);
  });

  it('closes only once when both sides close in the same frame', () => {
    const { client, backend } = marbles(({ cold, expectObservable }) => {
      const client = fakeEndpoint('client', cold<WsEvent>('--q', { q: close(1000) }));
      const backend = fakeEndpoint('backend', cold<WsEvent>('--q', { q: close(1001) }));
      expectObservable(wsSession(client, backend)).toBe('--(e|)', {
        e: ended({ closedBy: 'client', code: 1000 }),
      });
      return { client, backend };
    });
    expect(backend.close.mock.calls).toEqual([[1000, '']]);
    expect(client.close).not.toHaveBeenCalled();
  });

  it('pauses the sender while the receiver is full, once per pause, and resumes when it drains', () => {
    const log: string[] = [];
    marbles(({ cold, expectObservable }) => {
      const m = message(text('data'));
      const client = fakeEndpoint(
        'client',
        cold<WsEvent>('ab 8ms c', { a: m, b: m, c: m }),
        [],
        log,
      );
      const backend = fakeEndpoint('backend', cold<WsEvent>('-'), [false, false, false], log);
      expectObservable(wsSession(client, backend)).toBe('-');
      expectObservable(cold('-- 3ms d').pipe(tap(() => backend.drain()))).toBe('-- 3ms d');
    });
    expect(log).toEqual([
      'backend.send false',
      'client.pause',
      'backend.whenDrained',
      'backend.send false',
      'client.resume',
      'backend.send false',
      'client.pause',
      'backend.whenDrained',
    ]);
  });

  it('emits nothing while both sides are silent (never)', () => {
    const { client, backend } = marbles(({ cold, expectObservable }) => {
      const client = fakeEndpoint('client', cold<WsEvent>('-'));
      const backend = fakeEndpoint('backend', cold<WsEvent>('-'));
      expectObservable(wsSession(client, backend)).toBe('-');
      return { client, backend };
    });
    expect(client.close).not.toHaveBeenCalled();
    expect(backend.close).not.toHaveBeenCalled();
  });

  it('unsubscribes both sides on early unsubscription and closes nothing itself', () => {
    const { client, backend } = marbles(({ cold, expectObservable, expectSubscriptions }) => {
      const clientEvents = cold<WsEvent>('-a 5ms q', { a: message(text('hi')), q: close(1000) });
      const backendEvents = cold<WsEvent>('- 9ms q', { q: close(1000) });
      const client = fakeEndpoint('client', clientEvents);
      const backend = fakeEndpoint('backend', backendEvents);
      expectObservable(wsSession(client, backend), '^--!').toBe('-');
      expectSubscriptions(clientEvents.subscriptions).toBe('^--!');
      expectSubscriptions(backendEvents.subscriptions).toBe('^--!');
      return { client, backend };
    });
    expect(backend.send).toHaveBeenCalledTimes(1);
    expect(client.close).not.toHaveBeenCalled();
    expect(backend.close).not.toHaveBeenCalled();
  });

  it('does not subscribe to the backend when the client has already closed at subscription', () => {
    marbles(({ cold, expectObservable, expectSubscriptions }) => {
      const client = fakeEndpoint(
        'client',
        of<WsEvent>({ type: 'close', code: 4001, reason: 'bye' }),
      );
      const backendEvents = cold<WsEvent>('-');
      const backend = fakeEndpoint('backend', backendEvents);
      expectObservable(wsSession(client, backend)).toBe('(e|)', {
        e: {
          closedBy: 'client',
          code: 4001,
          reason: 'bye',
          clientToBackend: { messages: 0, bytes: 0 },
          backendToClient: { messages: 0, bytes: 0 },
        },
      });
      expectSubscriptions(backendEvents.subscriptions).toBe([]);
    });
    expect.hasAssertions();
  });
});
