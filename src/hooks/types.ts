import type { Observable, OperatorFunction } from '../rx';
import type { ProxyEvent } from '../events';
import type { HealthySnapshot } from '../streams/healthySet';

/** Request headers as hooks see them: lower-case names; a repeated header is an array. */
export type HeaderMap = Record<string, string | string[]>;

/**
 * One incoming request (or WebSocket handshake) as hooks see it. Hooks may change the writable
 * fields; the proxy forwards what comes out of the chain.
 */
export interface ProxyRequest {
  readonly method: string;
  /** Path and query as they go to the backend; writable (a rewrite). */
  url: string;
  /** The path part of `url`, without the query. */
  readonly path: string;
  /** Writable: add, change or delete headers (names lower-case). */
  headers: HeaderMap;
  /** The client's address (behind `trusted_proxies`, the address they forwarded for). */
  readonly remoteAddress: string;
  /** True for a WebSocket handshake. */
  readonly upgrade: boolean;
  /** Pins the request to this server (e.g. `server2`); an unknown or unhealthy one gets 503. */
  backend: string | undefined;
  /** Overrides consistent-hash's key for this request. */
  hashKey: string | undefined;
  /** Carried to the response hook and the `request` event. */
  meta: Record<string, unknown>;
  /**
   * The pool the request goes to: the one its route (or the default) chose. Writable: another
   * pool's name sends the request there; an unknown name fails the request like a failing hook.
   */
  pool: string;
  /** The `[route:NAME]` the request matched; undefined when it went to the default pools. */
  readonly route: string | undefined;
}

/** An answer the proxy sends itself, without touching a backend. */
export interface ProxyReply {
  readonly kind: 'reply';
  /** The request it answers, so replies stay matched after a reordering operator. */
  readonly request: ProxyRequest;
  readonly status: number;
  /** Objects are sent as JSON; strings and Buffers as they are. */
  readonly body: unknown;
  readonly headers: Readonly<Record<string, string>>;
  /**
   * The `reason` label this answer counts under in `rxproxy_rejected_total` (lower-case letters,
   * digits and `_`; keep the set small). Default `hook_reply`.
   */
  readonly reason?: string;
}

/** A backend's response before its head goes to the client; the body is relayed untouched. */
export interface ProxyResponse {
  status: number;
  /** Writable; names lower-case, a repeated header is an array. */
  headers: HeaderMap;
  readonly backend: string;
  readonly request: ProxyRequest;
}

export type RequestHook = OperatorFunction<ProxyRequest, ProxyRequest | ProxyReply>;
export type ResponseHook = OperatorFunction<ProxyResponse, ProxyResponse>;
export type HealthySetHook = OperatorFunction<HealthySnapshot, HealthySnapshot>;
/** Receives every proxy event, delivered off the hot path; what it returns is subscribed. */
export type EventsHook = (events$: Observable<ProxyEvent>) => Observable<unknown> | void;

export interface ProxyHooks {
  readonly request?: RequestHook | readonly RequestHook[];
  readonly response?: ResponseHook | readonly ResponseHook[];
  readonly events?: EventsHook;
  readonly healthySet?: HealthySetHook | readonly HealthySetHook[];
}

/** Makes the proxy answer `request` itself: `reply(req, 401, { error: 'login first' })`. */
export function reply(
  request: ProxyRequest,
  status: number,
  body?: unknown,
  headers: Readonly<Record<string, string>> = {},
): ProxyReply {
  return { kind: 'reply', request, status, body, headers };
}

export function isReply(value: ProxyRequest | ProxyReply): value is ProxyReply {
  return (value as Partial<ProxyReply>).kind === 'reply';
}
