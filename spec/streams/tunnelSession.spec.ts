import { of, type Observable } from 'rxjs';
import {
  closeCodeFor,
  tunnelSession,
  type TunnelEvent,
  type WsSessionEnd,
} from '../../src/streams/tunnelSession';
import { marbles } from '../helpers/marbles';

const close = (code: number, reason = ''): TunnelEvent => ({ type: 'close', code, reason });
const violation = (code: number): TunnelEvent => ({ type: 'violation', code });
const gone: TunnelEvent = { type: 'gone' };

const none = { messages: 0, bytes: 0 };
const ended = (
  end: Pick<WsSessionEnd, 'closedBy' | 'code'> & Partial<WsSessionEnd>,
): WsSessionEnd => ({ reason: '', clientToBackend: none, backendToClient: none, ...end });

/**
 * A scripted side: its lifecycle events, counts the test may set, and the close frames the
 * session asked it to send (the adapter ignores one when a close frame was already sent).
 */
function fakeSide(events$: Observable<TunnelEvent>, messages = 0, bytes = 0) {
  return { events$, messages, bytes, close: jest.fn((_code: number, _reason: string) => {}) };
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

describe('tunnelSession', () => {
  it('ends once both connections are gone, with the first close frame`s side, code, reason and the counts', () => {
    const { client, backend } = marbles(({ cold, expectObservable, expectSubscriptions }) => {
      const clientEvents = cold<TunnelEvent>('-- 3ms q-g', { q: close(4001, 'bye'), g: gone });
      const backendEvents = cold<TunnelEvent>('-- 4ms q--g|', { q: close(4001), g: gone });
      const client = fakeSide(clientEvents, 3, 10);
      const backend = fakeSide(backendEvents, 2, 7);
      expectObservable(tunnelSession(client, backend)).toBe('-- 7ms (e|)', {
        e: ended({
          closedBy: 'client',
          code: 4001,
          reason: 'bye',
          clientToBackend: { messages: 3, bytes: 10 },
          backendToClient: { messages: 2, bytes: 7 },
        }),
      });
      expectSubscriptions(clientEvents.subscriptions).toBe('^ 8ms !');
      expectSubscriptions(backendEvents.subscriptions).toBe('^ 8ms !');
      return { client, backend };
    });
    // The close frames passed through the tunnel: the session sends none of its own but the
    // answer to the client's close in case the client was lost first (a no-op here).
    expect(backend.close.mock.calls).toEqual([[4001, 'bye']]);
    expect(client.close.mock.calls).toEqual([[4001, 'bye']]);
  });

  it('records a backend close with 4001 "bye" as closed by the backend', () => {
    marbles(({ cold, expectObservable }) => {
      const client = fakeSide(cold<TunnelEvent>('---q-g', { q: close(4001, 'bye'), g: gone }));
      const backend = fakeSide(cold<TunnelEvent>('--q-g', { q: close(4001, 'bye'), g: gone }));
      expectObservable(tunnelSession(client, backend)).toBe('-----(e|)', {
        e: ended({ closedBy: 'backend', code: 4001, reason: 'bye' }),
      });
    });
    expect.hasAssertions();
  });

  it('keeps a close without status as 1005 in the end value and answers it with 1000', () => {
    const { client } = marbles(({ cold, expectObservable }) => {
      const client = fakeSide(cold<TunnelEvent>('----g'));
      const backend = fakeSide(cold<TunnelEvent>('-q-g', { q: close(1005), g: gone }));
      expectObservable(tunnelSession(client, backend)).toBe('----(e|)', {
        e: ended({ closedBy: 'backend', code: 1005 }),
      });
      return { client };
    });
    expect(client.close.mock.calls).toEqual([[1000, '']]);
  });

  it.each([
    { code: 1009, error: 'message too big' },
    { code: 1002, error: 'protocol violation' },
  ])('answers a client`s violation with $code to it and 1001 to the backend', ({ code, error }) => {
    const { client, backend } = marbles(({ cold, expectObservable }) => {
      const client = fakeSide(cold<TunnelEvent>('-v-g', { v: violation(code), g: gone }), 1, 5);
      const backend = fakeSide(cold<TunnelEvent>('-- 3ms q-g', { q: close(1001), g: gone }));
      expectObservable(tunnelSession(client, backend)).toBe('-- 5ms (e|)', {
        e: ended({ closedBy: 'client', code, error, clientToBackend: { messages: 1, bytes: 5 } }),
      });
      return { client, backend };
    });
    // Later calls, once a side is gone, find a close frame already sent.
    expect(client.close.mock.calls).toEqual([
      [code, ''],
      [code, ''],
    ]);
    expect(backend.close.mock.calls).toEqual([
      [1001, 'going away'],
      [code, ''],
    ]);
  });

  it('answers a backend`s violation with its code to the backend and 1001 to the client', () => {
    const { client, backend } = marbles(({ cold, expectObservable }) => {
      const client = fakeSide(cold<TunnelEvent>('---g', { g: gone }));
      const backend = fakeSide(cold<TunnelEvent>('-v-g', { v: violation(1002), g: gone }));
      expectObservable(tunnelSession(client, backend)).toBe('---(e|)', {
        e: ended({ closedBy: 'backend', code: 1002, error: 'protocol violation' }),
      });
      return { client, backend };
    });
    expect(backend.close.mock.calls[0]).toEqual([1002, '']);
    expect(client.close.mock.calls[0]).toEqual([1001, 'going away']);
  });

  it('closes the client with 1011 at once when the backend is lost without a close frame (1006)', () => {
    const { client, backend } = marbles(({ cold, expectObservable }) => {
      const client = fakeSide(cold<TunnelEvent>('-- 5ms g', { g: gone }));
      const backend = fakeSide(cold<TunnelEvent>('--g|', { g: gone }), 4, 40);
      expectObservable(tunnelSession(client, backend)).toBe('-- 5ms (e|)', {
        e: ended({ closedBy: 'backend', code: 1006, backendToClient: { messages: 4, bytes: 40 } }),
      });
      return { client, backend };
    });
    expect(client.close.mock.calls).toEqual([[1011, '']]);
    expect(backend.close.mock.calls).toEqual([[1011, '']]);
  });

  it('closes the client with 1011 when the backend fails, and ends with the error as a value', () => {
    const { client } = marbles(({ cold, expectObservable }) => {
      const client = fakeSide(cold<TunnelEvent>('----g', { g: gone }));
      const backend = fakeSide(
        cold<TunnelEvent>('--e', { e: { type: 'gone', error: 'read ECONNRESET' } }),
      );
      expectObservable(tunnelSession(client, backend)).toBe('----(e|)', {
        e: ended({ closedBy: 'backend', code: 1011, error: 'read ECONNRESET' }),
      });
      return { client };
    });
    expect(client.close.mock.calls).toEqual([[1011, '']]);
  });

  it('closes the backend with 1011 when the client vanishes (its events error)', () => {
    const { backend } = marbles(({ cold, expectObservable }) => {
      const client = fakeSide(cold<TunnelEvent>('-#', undefined, new Error('socket hang up')));
      const backend = fakeSide(cold<TunnelEvent>('---g', { g: gone }));
      expectObservable(tunnelSession(client, backend)).toBe('---(e|)', {
        e: ended({ closedBy: 'client', code: 1011, error: 'socket hang up' }),
      });
      return { backend };
    });
    expect(backend.close.mock.calls).toEqual([[1011, '']]);
  });

  it('treats a side whose events complete without `gone` as lost (the other gets 1011)', () => {
    const { client } = marbles(({ cold, expectObservable }) => {
      const client = fakeSide(cold<TunnelEvent>('----g', { g: gone }));
      const backend = fakeSide(cold<TunnelEvent>('---|'));
      expectObservable(tunnelSession(client, backend)).toBe('----(e|)', {
        e: ended({ closedBy: 'backend', code: 1006 }),
      });
      return { client };
    });
    expect(client.close.mock.calls).toEqual([[1011, '']]);
  });

  it('answers a backend`s close with its own code when the client is lost before answering', () => {
    const { backend } = marbles(({ cold, expectObservable }) => {
      const client = fakeSide(cold<TunnelEvent>('---g', { g: gone }));
      const backend = fakeSide(cold<TunnelEvent>('-q---g', { q: close(4002, 'done'), g: gone }));
      expectObservable(tunnelSession(client, backend)).toBe('-----(e|)', {
        e: ended({ closedBy: 'backend', code: 4002, reason: 'done' }),
      });
      return { backend };
    });
    expect(backend.close.mock.calls).toEqual([[4002, 'done']]);
  });

  it('records the first of two close frames in the same frame of time', () => {
    marbles(({ cold, expectObservable }) => {
      const client = fakeSide(cold<TunnelEvent>('--qg', { q: close(1000), g: gone }));
      const backend = fakeSide(cold<TunnelEvent>('--qg', { q: close(1001), g: gone }));
      expectObservable(tunnelSession(client, backend)).toBe('---(e|)', {
        e: ended({ closedBy: 'client', code: 1000 }),
      });
    });
    expect.hasAssertions();
  });

  it('waits for the other side when one is gone at subscription', () => {
    const { backend } = marbles(({ cold, expectObservable, expectSubscriptions }) => {
      const client = fakeSide(of(gone));
      const backendEvents = cold<TunnelEvent>('--g', { g: gone });
      const backend = fakeSide(backendEvents);
      expectObservable(tunnelSession(client, backend)).toBe('--(e|)', {
        e: ended({ closedBy: 'client', code: 1006 }),
      });
      expectSubscriptions(backendEvents.subscriptions).toBe('^-!');
      return { backend };
    });
    expect(backend.close.mock.calls).toEqual([[1011, '']]);
  });

  it('emits nothing while both sides are open (never)', () => {
    const { client, backend } = marbles(({ cold, expectObservable }) => {
      const client = fakeSide(cold<TunnelEvent>('-'));
      const backend = fakeSide(cold<TunnelEvent>('-'));
      expectObservable(tunnelSession(client, backend)).toBe('-');
      return { client, backend };
    });
    expect(client.close).not.toHaveBeenCalled();
    expect(backend.close).not.toHaveBeenCalled();
  });

  it('unsubscribes both sides on early unsubscription and closes nothing itself', () => {
    const { client, backend } = marbles(({ cold, expectObservable, expectSubscriptions }) => {
      const clientEvents = cold<TunnelEvent>('-q 5ms g', { q: close(1000), g: gone });
      const backendEvents = cold<TunnelEvent>('- 9ms g', { g: gone });
      const client = fakeSide(clientEvents);
      const backend = fakeSide(backendEvents);
      expectObservable(tunnelSession(client, backend), '^--!').toBe('-');
      expectSubscriptions(clientEvents.subscriptions).toBe('^--!');
      expectSubscriptions(backendEvents.subscriptions).toBe('^--!');
      return { client, backend };
    });
    expect(client.close).not.toHaveBeenCalled();
    expect(backend.close).not.toHaveBeenCalled();
  });
});
