import { request } from 'undici';
import { slowly } from '../helpers/backend';
import { useHarness } from '../helpers/harness';
import { eventsOf, type RunningProxy } from '../helpers/proxy';
import { reloadIni } from '../helpers/reload';
import { closeOf, echoOf, openRecording } from '../helpers/wsClient';
import { startWsBackend, type TestWsBackend } from '../helpers/wsBackend';

describe('routes and pools in a live reload', () => {
  const harness = useHarness();
  const wsBackend = async (name: string): Promise<TestWsBackend> => {
    const backend = await startWsBackend(name);
    harness.onCleanup(() => backend.close());
    return backend;
  };
  const openWs = (running: RunningProxy, path: string) =>
    openRecording(`${running.url.replace('http://', 'ws://')}${path}`, harness.onCleanup);
  const get = async (running: RunningProxy, path: string) => {
    const response = await request(`${running.url}${path}`, { dispatcher: harness.client });
    return { status: response.statusCode, body: await response.body.text() };
  };

  it('changes one route and its pool while WebSockets on another route stay open', async () => {
    const web = await harness.backend('web');
    const api = await harness.backend('api');
    const api2 = await harness.backend('api2');
    const chat = await wsBackend('chat');
    const sections = (apiPrefix: string, apiServers: string) => `[http]
server1=${web.address}
[pool:api]
${apiServers}
[pool:chat]
server1=${chat.address}
[route:api]
path_prefix=${apiPrefix}
pool=api
[route:chat]
path_prefix=/chat
pool=chat
`;
    const running = await harness.proxy(sections('/api', `server1=${api.address}`));
    const socket = await openWs(running, '/chat/room1');
    expect(await echoOf(socket, 'before')).toContain('before');
    expect((await get(running, '/api/x')).body).toContain('api');

    const summary = await reloadIni(
      running,
      sections('/v2', `server1=${api.address}\nserver2=${api2.address}`),
    );
    expect(summary).toBe('api: +server2; routes: api');
    expect((await get(running, '/api/x')).body).toContain('web');
    expect((await get(running, '/v2/x')).body).toMatch(/"api2?"/);
    expect(await echoOf(socket, 'after')).toContain('after');
    expect(socket.closed).toBeUndefined();
    expect(chat.upgrades).toHaveLength(1);
    expect(eventsOf(running, 'websocket-close')).toEqual([]);
  });

  it('adds a pool and a route, then removes them: work under way finishes', async () => {
    const web = await harness.backend('web');
    const slow = await harness.backend('slow', slowly(600));
    const chat = await wsBackend('chat');
    const base = `[http]\nserver1=${web.address}\n`;
    const running = await harness.proxy(base, 'drain_timeout=1');
    const withPools = `${base}[pool:slow]
server1=${slow.address}
[pool:chat]
server1=${chat.address}
[route:slow]
path_prefix=/slow
pool=slow
websocket_pool=chat
`;
    expect(await reloadIni(running, withPools, 'drain_timeout=1')).toBe(
      'slow (added): +server1; chat (added): +server1; routes: +slow',
    );
    const socket = await openWs(running, '/slow/socket');
    expect(await echoOf(socket, 'hi')).toContain('hi');
    const underWay = get(running, '/slow/x');
    await new Promise((resolve) => setTimeout(resolve, 150));

    const removedAt = Date.now();
    await reloadIni(running, base, 'drain_timeout=1');
    expect((await get(running, '/slow/y')).body).toContain('web');
    expect(await underWay).toMatchObject({ status: 200, body: '{"backend":"slow"}' });
    // The retired pool's WebSocket stays until drain_timeout, then closes with 1001.
    expect(await echoOf(socket, 'still')).toContain('still');
    const closed = await closeOf(socket, 5000);
    expect(closed.code).toBe(1001);
    expect(closed.at - removedAt).toBeGreaterThanOrEqual(900);
    expect(running.proxy.live.pools().map((pool) => pool.name)).toEqual(['http']);
  });

  it('serves with routes only: what no route takes gets 404 {"error":"no route"}', async () => {
    const api = await harness.backend('api');
    const chat = await wsBackend('chat');
    const running = await harness.proxy(`[pool:api]
server1=${api.address}
[pool:chat]
server1=${chat.address}
[route:api]
path_prefix=/api
pool=api
websocket_pool=chat
`);
    expect(await get(running, '/api/x')).toMatchObject({ status: 200, body: /"api"/ });
    expect(await get(running, '/other')).toEqual({ status: 404, body: '{"error":"no route"}' });
    const socket = await openWs(running, '/api/socket');
    expect(await echoOf(socket, 'routed')).toContain('routed');
    await expect(openWs(running, '/elsewhere')).rejects.toThrow(/404/);
    expect(running.proxy.live.pools().map((pool) => pool.name)).toEqual(['api', 'chat']);
    expect(running.proxy.live.readiness()).toEqual({ ready: true, reason: 'ready' });
    expect(eventsOf(running, 'request').map((event) => event.pool)).toEqual(['api', '']);
    expect(eventsOf(running, 'websocket-rejected')).toEqual([
      { type: 'websocket-rejected', pool: '', status: 404, rejected: 'no_route' },
    ]);
  });
});
