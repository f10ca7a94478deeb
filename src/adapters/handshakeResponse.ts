import { headerMapOf, rawHeadersOf } from '../hooks/proxyRequest';
import type { ProxyRequest, ProxyResponse } from '../hooks/types';
import { HookRun, type ExchangeHooks, type HookOutcome } from './hookRunner';

/** Lines of a 101 that belong to the handshake itself: hooks cannot change them. */
const HANDSHAKE = new Set([
  'upgrade',
  'connection',
  'sec-websocket-accept',
  'sec-websocket-protocol',
  'sec-websocket-extensions',
]);

/**
 * Runs response hooks over the 101 that completes a client's WebSocket handshake (its lines,
 * status line first, before they are written), so header lines and the request id
 * reach WebSocket clients too. Only hooks that answer synchronously can change it: the 101 does
 * not wait. The status and the handshake's own headers stay as they are.
 */
export function hookSwitchingProtocols(
  lines: string[],
  hooks: ExchangeHooks,
  request: ProxyRequest,
  backend: string,
): void {
  const chain = hooks.response;
  if (!chain) return;
  const kept: string[] = [];
  const raw: string[] = [];
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim();
    if (HANDSHAKE.has(name.toLowerCase())) kept.push(line);
    else raw.push(name, line.slice(colon + 1).trim());
  }
  const response: ProxyResponse = { status: 101, headers: headerMapOf(raw), backend, request };
  let outcome: HookOutcome<ProxyResponse> | undefined;
  const run = new HookRun(chain, (done) => {
    outcome = done;
  });
  run.start(response);
  if (outcome === undefined) {
    run.cancel();
    return;
  }
  if (outcome.kind === 'failed') hooks.failed('response hook', outcome.message);
  if (outcome.kind !== 'value') return;
  const headers = rawHeadersOf(outcome.value.headers);
  const status = lines[0] ?? 'HTTP/1.1 101 Switching Protocols';
  lines.length = 0;
  lines.push(status, ...kept);
  for (let i = 0; i < headers.length; i += 2) lines.push(`${headers[i]}: ${headers[i + 1]}`);
}
