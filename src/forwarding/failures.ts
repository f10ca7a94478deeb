/**
 * Why the proxy answered a request itself, as the `reason` label of `rxproxy_rejected_total`.
 * Hook replies carry their own (`hook_reply` unless the hook names one).
 */
export type RejectReason =
  | 'queue_full'
  | 'queue_timeout'
  | 'pending_full'
  | 'no_healthy_backend'
  | 'header_timeout'
  | 'body_timeout'
  | 'too_large'
  | 'bad_request'
  | 'shutting_down'
  | 'rate_limited'
  | 'forbidden'
  | 'hook_failed'
  | 'hook_reply'
  | 'no_route'
  | (string & {});

/** What the client is told when the proxy answers for a backend. */
export interface ProxyAnswer {
  readonly status: number;
  readonly error: string;
  /** Set when the proxy refused the request itself (not for a backend's failure). */
  readonly reason?: RejectReason;
  /** Seconds for a Retry-After header, when the client should simply try again later. */
  readonly retryAfter?: number;
}

export const BAD_GATEWAY: ProxyAnswer = { status: 502, error: 'bad gateway' };
export const GATEWAY_TIMEOUT: ProxyAnswer = { status: 504, error: 'gateway timeout' };
export const BAD_REQUEST: ProxyAnswer = {
  status: 400,
  error: 'bad request',
  reason: 'bad_request',
};
/** A CONNECT over HTTP/2 that is not a WebSocket's (RFC 8441): rxproxy is no forward proxy. */
export const METHOD_NOT_ALLOWED: ProxyAnswer = {
  status: 405,
  error: 'method not allowed',
  reason: 'bad_request',
};
/** No route takes the request and there is no default pool. */
export const NO_ROUTE: ProxyAnswer = { status: 404, error: 'no route', reason: 'no_route' };
/** A request body that stalled. */
export const REQUEST_TIMEOUT: ProxyAnswer = {
  status: 408,
  error: 'request timeout',
  reason: 'body_timeout',
};
/** Request headers that did not arrive within header_timeout. */
export const HEADER_TIMEOUT: ProxyAnswer = { ...REQUEST_TIMEOUT, reason: 'header_timeout' };
export const PAYLOAD_TOO_LARGE: ProxyAnswer = {
  status: 413,
  error: 'payload too large',
  reason: 'too_large',
};
export const HEADERS_TOO_LARGE: ProxyAnswer = {
  status: 431,
  error: 'request header fields too large',
  reason: 'too_large',
};
/** Every backend's queue was full (and the pool's line, when it has none). */
export const SERVICE_UNAVAILABLE: ProxyAnswer = {
  status: 503,
  error: 'service unavailable',
  retryAfter: 1,
  reason: 'queue_full',
};
export const PENDING_FULL: ProxyAnswer = { ...SERVICE_UNAVAILABLE, reason: 'pending_full' };
export const QUEUE_TIMEOUT: ProxyAnswer = { ...SERVICE_UNAVAILABLE, reason: 'queue_timeout' };
export const SHUTTING_DOWN: ProxyAnswer = { ...SERVICE_UNAVAILABLE, reason: 'shutting_down' };

export const NO_HEALTHY_BACKEND: ProxyAnswer = {
  status: 503,
  error: 'no healthy backend',
  retryAfter: 1,
  reason: 'no_healthy_backend',
};

/** An upstream failure with a code the forwarding rules understand. */
export function upstreamError(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code });
}

/** Failures that say nothing about the backend: the proxy refused, or the request was invalid. */
export function isProxyRefusal(code: string | undefined): boolean {
  return (
    code === 'QUEUE_TIMEOUT' ||
    code === 'SHUTTING_DOWN' ||
    code === 'CLIENT_CLOSED' ||
    code === 'UND_ERR_INVALID_ARG'
  );
}

const TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
]);

/** Failures to reach a backend at all, or a connection that broke before any response byte. */
const CONNECTION_FAILURES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
  'UND_ERR_CONNECT_TIMEOUT',
  'WORKER_CLOSED',
]);

/** Failures on a reused connection that mean the backend had closed it meanwhile. */
const STALE_CONNECTION = new Set([
  'ECONNRESET',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_DESTROYED',
  'WORKER_CLOSED',
]);

export const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set([
  'GET',
  'HEAD',
  'OPTIONS',
  'PUT',
  'DELETE',
  'TRACE',
]);

/** OpenSSL's certificate verification results, as Node names them in `error.code`. */
const CERTIFICATE_FAILURES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'INVALID_CA',
  'HOSTNAME_MISMATCH',
]);

/**
 * A TLS handshake with a backend that failed: a certificate it could not verify, a name it
 * does not carry (`ERR_TLS_CERT_ALTNAME_INVALID`) or an alert (`ERR_SSL_...`).
 */
export function isTlsFailure(code: string | undefined): boolean {
  return (
    code !== undefined &&
    (CERTIFICATE_FAILURES.has(code) || code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_'))
  );
}

/** The backend could not be reached, a TLS handshake with it failed included. */
export function isConnectionFailure(code: string | undefined): boolean {
  return code !== undefined && (CONNECTION_FAILURES.has(code) || isTlsFailure(code));
}

export function isStaleConnectionFailure(code: string | undefined): boolean {
  return code !== undefined && STALE_CONNECTION.has(code);
}

/** Maps an upstream failure before any response byte to the answer the client gets. */
export function answerForUpstreamError(code: string | undefined): ProxyAnswer {
  if (code === 'QUEUE_TIMEOUT') return QUEUE_TIMEOUT;
  if (code === 'SHUTTING_DOWN') return SHUTTING_DOWN;
  if (code !== undefined && TIMEOUT_CODES.has(code)) return GATEWAY_TIMEOUT;
  if (code === 'UND_ERR_INVALID_ARG' || code === 'UND_ERR_NOT_SUPPORTED') return BAD_REQUEST;
  return BAD_GATEWAY;
}

export function answerBody(answer: ProxyAnswer): string {
  return JSON.stringify({ error: answer.error });
}

/** An answer as it goes on the wire. */
export interface RenderedAnswer {
  readonly status: number;
  /** Flat `[name, value, ...]`, content-type and content-length included. */
  readonly headers: string[];
  readonly body: Buffer;
}

/** One of the proxy's own JSON answers as status, headers and body. */
export function renderAnswer(answer: ProxyAnswer): RenderedAnswer {
  const body = Buffer.from(answerBody(answer));
  const headers = ['content-type', 'application/json', 'content-length', String(body.length)];
  if (answer.retryAfter !== undefined) headers.push('retry-after', String(answer.retryAfter));
  return { status: answer.status, headers, body };
}
