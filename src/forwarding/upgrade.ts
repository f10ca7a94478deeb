import type { IncomingMessage } from 'node:http';

function hasToken(value: string | string[] | undefined, token: string): boolean {
  const text = Array.isArray(value) ? value.join(',') : (value ?? '');
  return text.split(',').some((part) => part.trim().toLowerCase() === token);
}

/**
 * A WebSocket opening handshake per RFC 6455 and RFC 9110: a GET with `Upgrade: websocket` and a
 * `Connection` header whose comma-separated tokens include `upgrade` (`keep-alive, Upgrade`
 * counts), case-insensitively.
 */
export function isWebSocketUpgrade(req: IncomingMessage): boolean {
  return (
    req.method === 'GET' &&
    hasToken(req.headers.upgrade, 'websocket') &&
    hasToken(req.headers.connection, 'upgrade')
  );
}

const NOT_FORWARDED_ON_UPGRADE = new Set([
  'host',
  'sec-websocket-key',
  'sec-websocket-version',
  'sec-websocket-extensions',
  'sec-websocket-protocol',
]);

/**
 * The handshake headers for the backend as an object (the WebSocket client's form): end-to-end
 * headers such as Origin, Cookie and Authorization kept, repeats joined, hop-by-hop and the
 * handshake's own headers (the client library makes its own) left out.
 */
export function upgradeHeaders(headers: readonly string[]): Record<string, string> {
  const result: Record<string, string> = {};
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i] ?? '';
    const lower = name.toLowerCase();
    if (NOT_FORWARDED_ON_UPGRADE.has(lower)) continue;
    const value = headers[i + 1] ?? '';
    const previous = result[lower];
    result[lower] =
      previous === undefined ? value : `${previous}${lower === 'cookie' ? '; ' : ', '}${value}`;
  }
  return result;
}

/** The subprotocols the client asked for, in order. */
export function requestedProtocols(req: IncomingMessage): string[] {
  const header = req.headers['sec-websocket-protocol'];
  if (header === undefined) return [];
  return header
    .split(',')
    .map((protocol) => protocol.trim())
    .filter((protocol) => protocol !== '');
}
