import type { IncomingMessage, ServerResponse } from 'node:http';
import { map } from 'rxjs';
import { request } from 'undici';
import type { ProxyRequest } from '../../src/hooks/types';
import { useHarness } from '../helpers/harness';
import { eventsOf, iniWith, startProxy, type RunningProxy } from '../helpers/proxy';
import { echoOf, openRecording } from '../helpers/wsClient';
import { startWsBackend, type TestWsBackend } from '../helpers/wsBackend';

/** Plain HTTP requests answered with the backend's name. */
const answerName =
  (name: string) =>
  (_req: IncomingMessage, res: ServerResponse): void => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(name);
  };

describe('request hooks that choose the pool (through the real proxy)', () => {
  const harness = useHarness();
  let backends: Record<'web' | 'sockets' | 'chat' | 'beta1' | 'beta2', TestWsBackend>;
  let seen: { pool: string; route: string | undefined; upgrade: boolean }[];
  let running: RunningProxy;

  beforeEach(async () => {
    const names = ['web', 'sockets', 'chat', 'beta1', 'beta2'] as const;
    const started = await Promise.all(
      names.map((name) => startWsBackend(name, { onRequest: answerName(name) })),
    );
    for (const backend of started) harness.onCleanup(() => backend.close());
    backends = Object.fromEntries(names.map((name, i) => [name, started[i]])) as typeof backends;
    seen = [];
    running = await startProxy(
      iniWith(`[http]
server1=${backends.web.address}
[websocket]
server1=${backends.sockets.address}
[pool:chat]
server1=${backends.chat.address}
[pool:beta]
algorithm=round-robin
server1=${backends.beta1.address}
server2=${backends.beta2.address}
[route:site]
host=www.example.com
pool=http
[route:chat]
path_prefix=/chat
pool=chat
`),
      {
        hooks: {
          request: map((req: ProxyRequest) => {
            seen.push({ pool: req.pool, route: req.route, upgrade: req.upgrade });
            const pool = req.headers['x-pool'];
            if (typeof pool === 'string') req.pool = pool;
            else if (req.path === '/beta' || req.path.startsWith('/beta/')) req.pool = 'beta';
            else if (req.url.endsWith('?pool=beta')) req.pool = 'beta';
            const backend = req.headers['x-backend'];
            if (typeof backend === 'string') req.backend = backend;
            return req;
          }),
        },
      },
    );
    harness.onCleanup(() => running.stop());
  });

  const get = async (path: string, headers: Record<string, string> = {}) => {
    const response = await request(`${running.url}${path}`, {
      headers: { host: 'www.example.com', ...headers },
      dispatcher: harness.client,
    });
    return { status: response.statusCode, body: await response.body.text() };
  };

  it('sends requests a hook names to that pool; the request event carries pool and route', async () => {
    expect(await get('/beta/home')).toEqual({ status: 200, body: 'beta1' });
    expect(await get('/beta/home')).toEqual({ status: 200, body: 'beta2' });
    expect(await get('/other')).toEqual({ status: 200, body: 'web' });
    expect(await get('/x', { host: 'elsewhere.example' })).toEqual({ status: 200, body: 'web' });
    const toChat = { host: 'elsewhere.example', 'x-pool': 'beta', 'x-backend': 'server2' };
    expect(await get('/chat/room', toChat)).toEqual({
      status: 200,
      body: 'beta2',
    });
    expect(seen).toEqual([
      { pool: 'http', route: 'site', upgrade: false },
      { pool: 'http', route: 'site', upgrade: false },
      { pool: 'http', route: 'site', upgrade: false },
      { pool: 'http', route: undefined, upgrade: false },
      { pool: 'chat', route: 'chat', upgrade: false },
    ]);
    const requests = eventsOf(running, 'request');
    expect(requests.map((event) => [event.pool, event.route, event.backend])).toEqual([
      ['beta', 'site', 'server1'],
      ['beta', 'site', 'server2'],
      ['http', 'site', 'server1'],
      ['http', undefined, 'server1'],
      ['beta', 'chat', 'server2'],
    ]);
    expect(requests[3]).not.toHaveProperty('route');
  });

  it('answers 500 hook failed for an unknown pool, and the same name changes nothing', async () => {
    expect(await get('/x', { 'x-pool': 'nope' })).toEqual({
      status: 500,
      body: '{"error":"hook failed"}',
    });
    expect(eventsOf(running, 'internal-error')).toEqual([
      { type: 'internal-error', source: 'request hook', message: 'unknown pool "nope"' },
    ]);
    expect(await get('/x', { 'x-pool': 'http' })).toEqual({ status: 200, body: 'web' });
    expect(eventsOf(running, 'request').map((event) => [event.status, event.rejected])).toEqual([
      [500, 'hook_failed'],
      [200, undefined],
    ]);
  });

  it('sends a WebSocket handshake to the pool a hook names', async () => {
    const cleanups: (() => void)[] = [];
    harness.onCleanup(() => cleanups.forEach((cleanup) => cleanup()));
    const wsUrl = running.url.replace('http://', 'ws://');
    const toBeta = await openRecording(`${wsUrl}/beta/socket`, (c) => cleanups.push(c));
    expect(await echoOf(toBeta, 'hello')).toBe('hello');
    const fromChat = await openRecording(`${wsUrl}/chat/room?pool=beta`, (c) => cleanups.push(c));
    expect(await echoOf(fromChat, 'hi')).toBe('hi');
    const plain = await openRecording(`${wsUrl}/plain`, (c) => cleanups.push(c));
    expect(await echoOf(plain, 'plain')).toBe('plain');
    const toBetaServers = [...backends.beta1.upgrades, ...backends.beta2.upgrades];
    expect(toBetaServers.map((upgrade) => upgrade.url).sort()).toEqual([
      '/beta/socket',
      '/chat/room?pool=beta',
    ]);
    expect(backends.chat.upgrades).toEqual([]);
    expect(backends.sockets.upgrades.map((upgrade) => upgrade.url)).toEqual(['/plain']);
    expect(seen.map((request) => [request.pool, request.route, request.upgrade])).toEqual([
      ['websocket', undefined, true],
      ['chat', 'chat', true],
      ['websocket', undefined, true],
    ]);
    const opened = eventsOf(running, 'websocket-open');
    expect(opened.map((event) => [event.pool, event.route])).toEqual([
      ['beta', undefined],
      ['beta', 'chat'],
      ['websocket', undefined],
    ]);
  });
});
