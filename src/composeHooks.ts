import type { HooksConfig } from './config';
import { cidrMatcher } from './net/cidr';
import {
  allowFrom,
  rateKey,
  rateLimit,
  requestId,
  requestIdResponse,
  setRequestHeaders,
  setResponseHeaders,
  stripPrefix,
} from './operators/builtins';
import type { ExchangeHooks } from './adapters/hookRunner';
import type { ProxyEvent } from './events';
import { createProxyRequest } from './hooks/proxyRequest';
import {
  isReply,
  type HealthySetHook,
  type ProxyHooks,
  type ProxyRequest,
  type ProxyResponse,
  type RequestHook,
  type ResponseHook,
} from './hooks/types';

function listOf<T>(hook: T | readonly T[] | undefined): readonly T[] {
  if (hook === undefined) return [];
  return Array.isArray(hook) ? (hook as readonly T[]) : [hook as T];
}

const neverFinal = (_value: ProxyResponse): _value is never => false;

/** Requests without the key header share one bucket, so leaving the header out is no way round. */
function sharedWhenMissing(
  key: (request: ProxyRequest) => string | undefined,
): (request: ProxyRequest) => string {
  return (request) => key(request) ?? '';
}

/**
 * The hooks switched on in `[hooks]`, in their documented order: request_id, allow_from,
 * rate_limit, strip_prefix, request_headerN; on responses the request id, then response_headerN.
 */
export function builtinHooks(config: HooksConfig, newId: () => string): ProxyHooks {
  const request: RequestHook[] = [];
  const response: ResponseHook[] = [];
  if (config.requestId) {
    request.push(requestId({ header: config.requestIdHeader, newId }));
    response.push(requestIdResponse(config.requestIdHeader));
  }
  if (config.allowFrom.length > 0) request.push(allowFrom(cidrMatcher(config.allowFrom)));
  const limit = config.rateLimit;
  if (limit) {
    request.push(
      rateLimit({
        ratePerSecond: limit.tokensPerSecond,
        burst: limit.burst,
        key: sharedWhenMissing(rateKey(limit.key)),
        maxKeys: limit.maxKeys,
      }),
    );
  }
  if (config.stripPrefix !== undefined) request.push(stripPrefix(config.stripPrefix));
  if (config.requestHeaders.length > 0) request.push(setRequestHeaders(config.requestHeaders));
  if (config.responseHeaders.length > 0) response.push(setResponseHeaders(config.responseHeaders));
  return { request, response };
}

export interface HookSetupOptions {
  readonly timeoutMs: number;
  readonly emit: (event: ProxyEvent) => void;
}

/** What the data plane runs for each request and response, or undefined without hooks. */
export function exchangeHooks(
  sets: readonly ProxyHooks[],
  options: HookSetupOptions,
): ExchangeHooks | undefined {
  const request: RequestHook[] = sets.flatMap((set) => listOf(set.request));
  const response: ResponseHook[] = sets.flatMap((set) => listOf(set.response));
  if (request.length === 0 && response.length === 0) return undefined;
  const { timeoutMs } = options;
  return {
    request:
      request.length === 0
        ? undefined
        : {
            hooks: request,
            isFinal: isReply,
            timeoutMs,
          },
    response:
      response.length === 0
        ? undefined
        : {
            hooks: response,
            isFinal: neverFinal,
            timeoutMs,
          },
    proxyRequest: (req, upgrade, remoteAddress, place) =>
      createProxyRequest({
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        rawHeaders: req.rawHeaders,
        remoteAddress: remoteAddress ?? '',
        upgrade,
        pool: place.pool,
        route: place.route,
      }),
    failed: (source, message) => options.emit({ type: 'internal-error', source, message }),
  };
}

/** The healthy-set hooks of every set, composed in order; undefined when there are none. */
export function healthySetHook(sets: readonly ProxyHooks[]): HealthySetHook | undefined {
  const hooks: HealthySetHook[] = sets.flatMap((set) => listOf(set.healthySet));
  if (hooks.length === 0) return undefined;
  return (snapshots$) => hooks.reduce((stream, hook) => hook(stream), snapshots$);
}
