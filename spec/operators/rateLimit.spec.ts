import { lastValueFrom, mergeMap, of, type SchedulerLike } from 'rxjs';
import { reply, type ProxyRequest } from '../../src/hooks/types';
import { rateKey, rateLimit, type RateLimitOptions } from '../../src/operators/rateLimit';
import { hookRequest } from '../helpers/hookRequest';
import { itMirrorsItsSource } from '../helpers/mapLikeContract';
import { marbles } from '../helpers/marbles';

const from = (remoteAddress: string) => hookRequest({ remoteAddress });
const limited = (request: ProxyRequest, seconds: number) => ({
  ...reply(request, 429, { error: 'rate limited' }, { 'retry-after': String(seconds) }),
  reason: 'rate_limited',
});
const limiter = (options: Partial<RateLimitOptions>) =>
  rateLimit({
    ratePerSecond: 1,
    burst: 1,
    key: rateKey({ source: 'ip' }),
    maxKeys: 100,
    ...options,
  });

describe('rateLimit', () => {
  describe('under the limit', () => {
    itMirrorsItsSource(
      () => limiter({ burst: 1000 }),
      () => from('10.0.0.1'),
      (request) => request,
    );
  });

  describe('without a key', () => {
    itMirrorsItsSource(
      () => limiter({ key: () => undefined }),
      () => from('10.0.0.1'),
      (request) => request,
    );
  });

  it('lets a burst through at once, then answers 429', () => {
    marbles(({ cold, expectObservable }) => {
      const requests = cold('abcd|', {
        a: from('ip'),
        b: from('ip'),
        c: from('ip'),
        d: from('ip'),
      });
      expectObservable(requests.pipe(limiter({ burst: 3 }))).toBe('abcx|', {
        a: from('ip'),
        b: from('ip'),
        c: from('ip'),
        x: limited(from('ip'), 1),
      });
    });
  });

  it('refills the bucket continuously with time', () => {
    marbles(({ cold, expectObservable }) => {
      const request = from('ip');
      const requests = cold('(ab) 996ms c 499ms d 499ms e|', {
        a: request,
        b: request,
        c: request,
        d: request,
        e: request,
      });
      expectObservable(requests.pipe(limiter({ ratePerSecond: 1, burst: 1 }))).toBe(
        '(ax) 996ms c 499ms x 499ms e|',
        { a: request, c: request, e: request, x: limited(request, 1) },
      );
    });
  });

  it('holds no more than `burst` tokens however long a key was idle', () => {
    marbles(({ cold, expectObservable }) => {
      const request = from('ip');
      const requests = cold('ab 60m (cde)|', {
        a: request,
        b: request,
        c: request,
        d: request,
        e: request,
      });
      expectObservable(requests.pipe(limiter({ ratePerSecond: 10, burst: 2 }))).toBe(
        'ab 60m (cdx)|',
        { a: request, b: request, c: request, d: request, x: limited(request, 1) },
      );
    });
  });

  it.each([
    [1, '(ab)', 1],
    [100, '(ab)', 1],
    [0.5, '(ab)', 2],
    [0.5, 'a 998ms b', 2],
    [0.5, 'a 999ms b', 1],
    [0.3, '(ab)', 4],
    [0.1, '(ab)', 10],
    [0.1, 'a 999ms b', 9],
    [0.1, 'a 2499ms b', 8],
    [1 / 3, 'a 999ms b', 2],
  ])('at %p per second, %p gives Retry-After %p', (ratePerSecond, diagram, seconds) => {
    marbles(({ cold, expectObservable }) => {
      const request = from('ip');
      const requests = cold(diagram, { a: request, b: request });
      expectObservable(requests.pipe(limiter({ ratePerSecond, burst: 1 }))).toBe(diagram, {
        a: request,
        b: limited(request, seconds),
      });
    });
  });

  it('counts Retry-After down each second and lets the request through when a token is due', () => {
    marbles(({ cold, expectObservable }) => {
      const request = from('ip');
      const countdown = [9, 8, 7, 6, 5, 4, 3, 2, 1];
      const waits = Object.fromEntries(countdown.map((n) => [String(n), limited(request, n)]));
      // One request a second at 0.1 per second: the refills add up to 1 only in real numbers.
      const requests = cold(`a${' 999ms b'.repeat(9)} 999ms a`, { a: request, b: request });
      expectObservable(requests.pipe(limiter({ ratePerSecond: 0.1, burst: 1 }))).toBe(
        `a${countdown.map((n) => ` 999ms ${n}`).join('')} 999ms a`,
        { a: request, ...waits },
      );
    });
  });

  it('keeps a bucket per key', () => {
    marbles(({ cold, expectObservable }) => {
      const requests = cold('abab|', { a: from('10.0.0.1'), b: from('10.0.0.2') });
      expectObservable(requests.pipe(limiter({ burst: 1 }))).toBe('abxy|', {
        a: from('10.0.0.1'),
        b: from('10.0.0.2'),
        x: limited(from('10.0.0.1'), 1),
        y: limited(from('10.0.0.2'), 1),
      });
    });
  });

  it('forgets the least recently used key beyond maxKeys, which then starts full again', () => {
    marbles(({ cold, expectObservable }) => {
      const values = { a: from('k1'), b: from('k2'), c: from('k3') };
      // k1 is used again at the 3rd request, so k3 evicts k2; k2 then evicts k1, k1 evicts k3.
      const requests = cold('abacbab|', values);
      expectObservable(requests.pipe(limiter({ ratePerSecond: 0.001, maxKeys: 2 }))).toBe(
        'abxcbay|',
        { ...values, x: limited(from('k1'), 1000), y: limited(from('k2'), 1000) },
      );
    });
  });

  it('shares its buckets between the subscriptions of a chain applied per request', () => {
    marbles(({ hot, expectObservable }) => {
      const limit = limiter({ burst: 2 });
      const request = from('ip');
      const incoming = hot('a-b-c-|', { a: request, b: request, c: request });
      const answered = incoming.pipe(mergeMap((one) => of(one).pipe(limit)));
      expectObservable(answered).toBe('a-b-x-|', {
        a: request,
        b: request,
        x: limited(request, 1),
      });
    });
  });

  it('reads the time from the scheduler it is given', async () => {
    let now = 5_000;
    const clock: SchedulerLike = {
      now: () => now,
      schedule: () => {
        throw new Error('rateLimit schedules nothing');
      },
    };
    const limit = limiter({ ratePerSecond: 2, burst: 1, scheduler: clock });
    const request = from('ip');
    const answer = () => lastValueFrom(of(request).pipe(limit));
    expect(await answer()).toBe(request);
    expect(await answer()).toEqual(limited(request, 1));
    now += 500;
    expect(await answer()).toBe(request);
  });

  it.each<[string, Partial<RateLimitOptions>]>([
    ['a rate of 0', { ratePerSecond: 0 }],
    ['a negative rate', { ratePerSecond: -1 }],
    ['a burst below 1', { burst: 0.5 }],
    ['no room for keys', { maxKeys: 0 }],
    ['NaN', { ratePerSecond: NaN }],
  ])('refuses %s', (_case, options) => {
    expect(() => limiter(options)).toThrow(RangeError);
  });
});

describe('rateKey', () => {
  it.each<[string, Parameters<typeof rateKey>[0], Partial<ProxyRequest>, string | undefined]>([
    ['the client address', { source: 'ip' }, { remoteAddress: '10.1.1.1' }, '10.1.1.1'],
    ['a header', { source: 'header', name: 'x-api-key' }, { headers: { 'x-api-key': 'k1' } }, 'k1'],
    [
      'a header of any case',
      { source: 'header', name: 'X-Api-Key' },
      { headers: { 'x-api-key': 'k1' } },
      'k1',
    ],
    [
      'the first of repeated headers',
      { source: 'header', name: 'x-api-key' },
      { headers: { 'x-api-key': ['k1', 'k2'] } },
      'k1',
    ],
    [
      'no key without the header',
      { source: 'header', name: 'x-api-key' },
      { headers: { host: 'h' } },
      undefined,
    ],
  ])('keys by %s', (_case, spec, fields, key) => {
    expect(rateKey(spec)(hookRequest(fields))).toBe(key);
  });
});
