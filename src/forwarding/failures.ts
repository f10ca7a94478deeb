/** What the client is told when the proxy answers for a backend. */
export interface ProxyAnswer {
  readonly status: number;
  readonly error: string;
}

export const BAD_GATEWAY: ProxyAnswer = { status: 502, error: 'bad gateway' };
export const GATEWAY_TIMEOUT: ProxyAnswer = { status: 504, error: 'gateway timeout' };
export const BAD_REQUEST: ProxyAnswer = { status: 400, error: 'bad request' };
export const NO_BACKEND: ProxyAnswer = { status: 503, error: 'no backend available' };

const TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
]);

/** Maps an upstream failure before any response byte to the answer the client gets. */
export function answerForUpstreamError(code: string | undefined): ProxyAnswer {
  if (code !== undefined && TIMEOUT_CODES.has(code)) return GATEWAY_TIMEOUT;
  if (code === 'UND_ERR_INVALID_ARG' || code === 'UND_ERR_NOT_SUPPORTED') return BAD_REQUEST;
  return BAD_GATEWAY;
}

export function answerBody(answer: ProxyAnswer): string {
  return JSON.stringify({ error: answer.error });
}
