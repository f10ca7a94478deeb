import { syncHook } from '../hooks/syncHook';
import type { ProxyRequest, RequestHook } from '../hooks/types';

/**
 * Removes a path prefix from `url` before forwarding, by whole segments: with `/api`, `/api`
 * becomes `/`, `/api/x?q=1` becomes `/x?q=1`, and `/apix` or `/other` go on unchanged.
 */
export function stripPrefix(prefix: string): RequestHook {
  const stripped = prefix.replace(/\/+$/, '');
  if (stripped === '') {
    return syncHook((request: ProxyRequest) => request);
  }
  return syncHook((request) => {
    const { url } = request;
    if (!url.startsWith(stripped)) {
      return request;
    }
    const next = url.charAt(stripped.length);
    if (next === '/') {
      request.url = url.slice(stripped.length);
    } else if (next === '' || next === '?') {
      request.url = '/' + url.slice(stripped.length);
    }
    return request;
  });
}
