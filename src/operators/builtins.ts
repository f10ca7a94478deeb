export { allowFrom } from './allowFrom';
export { rateKey, rateLimit, type RateKeySpec, type RateLimitOptions } from './rateLimit';
export { requestId, requestIdResponse, type RequestIdOptions } from './requestId';
export { type HeaderEdit } from './applyHeaderEdits';
export { setRequestHeaders } from './setRequestHeaders';
export { setResponseHeaders } from './setResponseHeaders';
export { stripPrefix } from './stripPrefix';
