import type { ProxyEvent, ProxyEventOf } from '../../src/events';

/** A GET that server1 of the http pool answered with 200 in 50 ms; `changes` on top. */
export const requestEvent = (changes: Partial<ProxyEventOf<'request'>> = {}): ProxyEvent => ({
  type: 'request',
  pool: 'http',
  method: 'GET',
  url: '/private/path?token=secret',
  backend: 'server1',
  status: 200,
  durationMs: 50,
  ...changes,
});

/** A WebSocket to ws1 that the client closed normally after 3 messages up and 5 down. */
export const webSocketClose = (
  changes: Partial<ProxyEventOf<'websocket-close'>> = {},
): ProxyEvent => ({
  type: 'websocket-close',
  pool: 'websocket',
  backend: 'ws1',
  closedBy: 'client',
  code: 1000,
  reason: '',
  durationMs: 1200,
  clientToBackend: { messages: 3, bytes: 120 },
  backendToClient: { messages: 5, bytes: 4000 },
  ...changes,
});
