import { NEVER, Observable, map, mergeMap, type OperatorFunction } from 'rxjs';
import { HookRun, type HookChain, type HookOutcome } from '../../src/adapters/hookRunner';
import { createProxyRequest } from '../../src/hooks/proxyRequest';
import { syncHook } from '../../src/hooks/syncHook';
import { isReply, reply, type ProxyReply, type ProxyRequest } from '../../src/hooks/types';
import { marbles } from '../helpers/marbles';

type Hook = OperatorFunction<ProxyRequest, ProxyRequest | ProxyReply>;

const request = () =>
  createProxyRequest({
    method: 'GET',
    url: '/x',
    rawHeaders: ['Host', 'example'],
    remoteAddress: '127.0.0.1',
    upgrade: false,
    pool: 'http',
    route: undefined,
  });

/** A run as an observable of its one outcome, so marbles can drive it; unsubscribing cancels. */
function outcomeOf(hooks: Hook[], value: ProxyRequest, timeoutMs = 100) {
  const chain: HookChain<ProxyRequest, ProxyReply> = { hooks, isFinal: isReply, timeoutMs };
  return new Observable<HookOutcome<ProxyRequest | ProxyReply>>((subscriber) => {
    const run = new HookRun(chain, (outcome) => {
      subscriber.next(outcome);
      subscriber.complete();
    });
    run.start(value);
    return () => run.cancel();
  });
}

/** A hook that answers with what `source` emits, ignoring the request. */
const answeredBy =
  (source: Observable<ProxyRequest | ProxyReply>): Hook =>
  (request$) =>
    request$.pipe(mergeMap(() => source));

describe('HookRun', () => {
  it('passes a request through synchronous hooks in the same frame', () => {
    const req = request();
    marbles(({ expectObservable }) => {
      const tag = map((r: ProxyRequest) => {
        r.headers['x-a'] = '1';
        return r;
      });
      expectObservable(outcomeOf([tag, syncHook((r) => r)], req)).toBe('(a|)', {
        a: { kind: 'value', value: req },
      });
    });
    expect(req.headers['x-a']).toBe('1');
  });

  it('ends at the first reply: later hooks never see the request', () => {
    marbles(({ cold, expectObservable, expectSubscriptions }) => {
      const req = request();
      const answer = reply(req, 401, { error: 'no' });
      const later = cold<ProxyRequest>('a', { a: req });
      expectObservable(outcomeOf([syncHook(() => answer), answeredBy(later)], req)).toBe('(a|)', {
        a: { kind: 'value', value: answer },
      });
      expectSubscriptions(later.subscriptions).toBe([]);
    });
  });

  it('waits for an asynchronous hook, then runs the rest', () => {
    marbles(({ cold, expectObservable }) => {
      const req = request();
      const slow = cold<ProxyRequest>('--a', { a: req });
      expectObservable(outcomeOf([answeredBy(slow), syncHook((r) => r)], req)).toBe('--(a|)', {
        a: { kind: 'value', value: req },
      });
    });
  });

  it('times out a chain silent for timeoutMs and unsubscribes the hook', () => {
    marbles(({ cold, expectObservable, expectSubscriptions, time }) => {
      const timeout = time('-----|');
      const silent = cold<ProxyRequest>('-');
      expectObservable(outcomeOf([answeredBy(silent)], request(), timeout)).toBe('-----(a|)', {
        a: { kind: 'timeout' },
      });
      expectSubscriptions(silent.subscriptions).toBe('^----!');
    });
  });

  it('times out the whole chain, not each hook', () => {
    marbles(({ cold, expectObservable, time }) => {
      const req = request();
      const timeout = time('----|');
      const first = cold<ProxyRequest>('--a', { a: req });
      const second = cold<ProxyRequest>('---a', { a: req });
      expectObservable(outcomeOf([answeredBy(first), answeredBy(second)], req, timeout)).toBe(
        '----(a|)',
        { a: { kind: 'timeout' } },
      );
    });
  });

  it('turns a throwing hook into a failure with its message', () => {
    marbles(({ expectObservable }) => {
      const throwing = syncHook((): ProxyRequest => {
        throw new Error('boom');
      });
      expectObservable(outcomeOf([throwing], request())).toBe('(a|)', {
        a: { kind: 'failed', message: 'boom' },
      });
    });
  });

  it('turns a hook that throws when it is applied into a failure', () => {
    marbles(({ expectObservable }) => {
      const broken: Hook = () => {
        throw new Error('not an operator');
      };
      expectObservable(outcomeOf([broken], request())).toBe('(a|)', {
        a: { kind: 'failed', message: 'not an operator' },
      });
    });
  });

  it('turns an erroring hook into a failure', () => {
    marbles(({ cold, expectObservable }) => {
      const failing = cold<ProxyRequest>('--#', {}, new Error('denied'));
      expectObservable(outcomeOf([answeredBy(failing)], request())).toBe('--(a|)', {
        a: { kind: 'failed', message: 'denied' },
      });
    });
  });

  it('turns a hook that completes without a value into a failure (empty)', () => {
    marbles(({ cold, expectObservable }) => {
      const empty = cold<ProxyRequest>('-|');
      expectObservable(outcomeOf([answeredBy(empty)], request())).toBe('-(a|)', {
        a: { kind: 'failed', message: 'a hook completed without a value' },
      });
    });
  });

  it('takes only the first value of a hook that emits several', () => {
    marbles(({ cold, expectObservable, expectSubscriptions }) => {
      const req = request();
      const many = cold<ProxyRequest>('-ab', { a: req, b: req });
      expectObservable(outcomeOf([answeredBy(many)], req)).toBe('-(a|)', {
        a: { kind: 'value', value: req },
      });
      expectSubscriptions(many.subscriptions).toBe('^!');
    });
  });

  it('stops waiting when its client leaves (early unsubscription)', () => {
    marbles(({ cold, expectObservable, expectSubscriptions }) => {
      const slow = cold<ProxyRequest>('----a', { a: request() });
      expectObservable(outcomeOf([answeredBy(slow)], request()), '^-!').toBe('---');
      expectSubscriptions(slow.subscriptions).toBe('^-!');
    });
  });

  it('never ends while a hook never answers and no timeout comes (never)', () => {
    marbles(({ expectObservable }) => {
      expectObservable(outcomeOf([() => NEVER], request(), 1000), '^ 500ms !').toBe('-');
    });
  });

  it('with no hooks, ends at once with the request', () => {
    marbles(({ expectObservable }) => {
      const req = request();
      expectObservable(outcomeOf([], req)).toBe('(a|)', { a: { kind: 'value', value: req } });
    });
  });
});
