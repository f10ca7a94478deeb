import { syncHook } from '../hooks/syncHook';
import type { ProxyResponse, ResponseHook } from '../hooks/types';
import { applyHeaderEdits, normalizeHeaderEdits, type HeaderEdit } from './applyHeaderEdits';

/** Sets (replaces) the given headers on every response; an empty value removes the header. */
export function setResponseHeaders(headers: readonly HeaderEdit[]): ResponseHook {
  const edits = normalizeHeaderEdits(headers);
  return syncHook((response: ProxyResponse) => {
    applyHeaderEdits(response.headers, edits);
    return response;
  });
}
