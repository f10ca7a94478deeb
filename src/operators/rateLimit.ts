import { asyncScheduler, type SchedulerLike } from '../rx';
import { syncHook } from '../hooks/syncHook';
import { reply, type ProxyRequest, type RequestHook } from '../hooks/types';

export interface RateLimitOptions {
  /** Tokens added to each key's bucket per second, continuously (> 0). */
  readonly ratePerSecond: number;
  /** A bucket's capacity: the requests a key may make at once after being idle (>= 1). */
  readonly burst: number;
  /** The key a request counts against; `undefined` is not limited. */
  readonly key: (request: ProxyRequest) => string | undefined;
  /** Buckets kept at most; the least recently used key is forgotten (and starts full again). */
  readonly maxKeys: number;
  /** The clock, `asyncScheduler` by default. */
  readonly scheduler?: SchedulerLike;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/** Absorbs floating-point error in the refill: a token that is due is there, N s is not N + 1. */
const EPSILON = 1e-9;

/**
 * A token bucket per key: a request takes a token or gets 429 with `retry-after`, the whole
 * seconds until its key has a token again. The buckets are shared by every request the operator
 * sees, however the chain is subscribed.
 */
export function rateLimit(options: RateLimitOptions): RequestHook {
  const { ratePerSecond, burst, key, maxKeys, scheduler = asyncScheduler } = options;
  if (!(ratePerSecond > 0) || !(burst >= 1) || !(maxKeys >= 1)) {
    throw new RangeError('rateLimit needs ratePerSecond > 0, burst >= 1 and maxKeys >= 1');
  }
  const buckets = new Map<string, Bucket>();
  const ratePerMs = ratePerSecond / 1000;

  const bucketFor = (name: string, now: number): Bucket => {
    const found = buckets.get(name);
    if (found !== undefined) {
      buckets.delete(name);
      buckets.set(name, found);
      found.tokens = Math.min(burst, found.tokens + Math.max(0, now - found.updatedAt) * ratePerMs);
      found.updatedAt = now;
      return found;
    }
    if (buckets.size >= maxKeys) {
      buckets.delete(buckets.keys().next().value as string);
    }
    const created = { tokens: burst, updatedAt: now };
    buckets.set(name, created);
    return created;
  };

  return syncHook((request: ProxyRequest) => {
    const name = key(request);
    if (name === undefined) {
      return request;
    }
    const bucket = bucketFor(name, scheduler.now());
    if (bucket.tokens >= 1 - EPSILON) {
      bucket.tokens -= 1;
      return request;
    }
    const seconds = Math.max(1, Math.ceil((1 - bucket.tokens) / ratePerSecond - EPSILON));
    const answer = reply(
      request,
      429,
      { error: 'rate limited' },
      { 'retry-after': String(seconds) },
    );
    return { ...answer, reason: 'rate_limited' };
  });
}

export type RateKeySpec =
  { readonly source: 'ip' } | { readonly source: 'header'; readonly name: string };

/** The key function for `rateLimit`: the client's address, or a header's first value. */
export function rateKey(spec: RateKeySpec): (request: ProxyRequest) => string | undefined {
  if (spec.source === 'ip') {
    return (request) => request.remoteAddress;
  }
  const name = spec.name.toLowerCase();
  return (request) => {
    const value = request.headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
}
