import type { ProxyRequest, ProxyResponse } from '../../src/hooks/types';

/** A request as the pipeline hands it to hooks; `path` follows `url` as the wiring derives it. */
export function hookRequest(fields: Partial<ProxyRequest> = {}): ProxyRequest {
  const url = fields.url ?? '/';
  return {
    method: 'GET',
    path: url.split('?', 1)[0] ?? url,
    headers: {},
    remoteAddress: '127.0.0.1',
    upgrade: false,
    backend: undefined,
    hashKey: undefined,
    meta: {},
    pool: 'http',
    route: undefined,
    ...fields,
    url,
  };
}

export function hookResponse(fields: Partial<ProxyResponse> = {}): ProxyResponse {
  return { status: 200, headers: {}, backend: 'server1', request: hookRequest(), ...fields };
}
