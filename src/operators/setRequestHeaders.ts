import { syncHook } from '../hooks/syncHook';
import type { ProxyRequest, RequestHook } from '../hooks/types';
import { applyHeaderEdits, normalizeHeaderEdits, type HeaderEdit } from './applyHeaderEdits';

/** Sets (replaces) the given headers on every request; an empty value removes the header. */
export function setRequestHeaders(headers: readonly HeaderEdit[]): RequestHook {
  const edits = normalizeHeaderEdits(headers);
  return syncHook((request: ProxyRequest) => {
    applyHeaderEdits(request.headers, edits);
    return request;
  });
}
