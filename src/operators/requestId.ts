import { syncHook } from '../hooks/syncHook';
import type { ProxyRequest, ProxyResponse, RequestHook, ResponseHook } from '../hooks/types';

export interface RequestIdOptions {
  /** The header that carries the id, e.g. `x-request-id`. */
  readonly header: string;
  /** Makes a new id (the composition root passes node:crypto's `randomUUID`). */
  readonly newId: () => string;
}

/** 1 to 200 visible ASCII characters: anything else from a client is replaced. */
const validId = /^[\x21-\x7e]{1,200}$/;

/**
 * Keeps a valid incoming request id or makes a new one, and puts it in the header sent to the
 * backend and in `meta.requestId` (for the response header, the `request` event and the log).
 */
export function requestId({ header, newId }: RequestIdOptions): RequestHook {
  const name = header.toLowerCase();
  return syncHook((request: ProxyRequest) => {
    const incoming = request.headers[name];
    const first = Array.isArray(incoming) ? incoming[0] : incoming;
    const id = first !== undefined && validId.test(first) ? first : newId();
    request.headers[name] = id;
    request.meta.requestId = id;
    return request;
  });
}

/** Returns the request's id (`meta.requestId`, set by `requestId`) to the client in `header`. */
export function requestIdResponse(header: string): ResponseHook {
  const name = header.toLowerCase();
  return syncHook((response: ProxyResponse) => {
    const id = response.request.meta.requestId;
    if (typeof id === 'string') {
      response.headers[name] = id;
    }
    return response;
  });
}
