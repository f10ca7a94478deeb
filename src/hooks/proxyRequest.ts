import type { HeaderMap, ProxyRequest } from './types';

/** Names lower-cased, a repeated header gathered into an array, in the order first seen. */
export function headerMapOf(rawHeaders: readonly string[]): HeaderMap {
  const headers: HeaderMap = {};
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] ?? '').toLowerCase();
    const value = rawHeaders[i + 1] ?? '';
    const seen = headers[name];
    if (seen === undefined) headers[name] = value;
    else if (Array.isArray(seen)) seen.push(value);
    else headers[name] = [seen, value];
  }
  return headers;
}

/** A header map back to a flat `[name, value, ...]` list, arrays as repeated headers. */
export function rawHeadersOf(headers: HeaderMap): string[] {
  const raw: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (Array.isArray(value)) for (const item of value) raw.push(name, String(item));
    else if (value !== undefined) raw.push(name, String(value));
  }
  return raw;
}

export interface RequestFacts {
  readonly method: string;
  readonly url: string;
  readonly rawHeaders: readonly string[];
  readonly remoteAddress: string;
  readonly upgrade: boolean;
  /** The pool the route (or the default) chose. */
  readonly pool: string;
  /** The matched route's name; undefined for the default pools. */
  readonly route: string | undefined;
}

class HookedRequest implements ProxyRequest {
  readonly method: string;
  url: string;
  headers: HeaderMap;
  readonly remoteAddress: string;
  readonly upgrade: boolean;
  backend: string | undefined = undefined;
  hashKey: string | undefined = undefined;
  meta: Record<string, unknown> = {};
  pool: string;
  readonly route: string | undefined;

  constructor(facts: RequestFacts) {
    this.method = facts.method;
    this.url = facts.url;
    this.headers = headerMapOf(facts.rawHeaders);
    this.remoteAddress = facts.remoteAddress;
    this.upgrade = facts.upgrade;
    this.pool = facts.pool;
    this.route = facts.route;
  }

  get path(): string {
    const query = this.url.indexOf('?');
    return query < 0 ? this.url : this.url.slice(0, query);
  }
}

/** The request as hooks see and change it. */
export function createProxyRequest(facts: RequestFacts): ProxyRequest {
  return new HookedRequest(facts);
}
