import { request } from 'undici';
import { useHarness } from '../helpers/harness';
import { eventsOf } from '../helpers/proxy';
import { echoOf, openRecording } from '../helpers/wsClient';
import { startWsBackend, type TestWsBackend } from '../helpers/wsBackend';
import { waitUntil } from '../helpers/waitUntil';

describe('routes to named pools (HTTP)', () => {
  const harness = useHarness();

  const get = async (url: string, host: string) => {
    const response = await request(url, { headers: { host }, dispatcher: harness.client });
    return { status: response.statusCode, body: await response.body.text() };
  };

  it('sends each request to its route pool, strips a prefix, and falls back to [http]', async () => {
    const web = await harness.backend('web');
    const api = await harness.backend('api');
    const chat = await harness.backend('chat');
    const running = await harness.proxy(`[http]
server1=${web.address}
[pool:api]
server1=${api.address}
[pool:chat]
server1=${chat.address}
[route:api]
host=api.example.com
pool=api
[route:chat]
path_prefix=/chat
strip_path_prefix=true
pool=chat
`);
    expect((await get(`${running.url}/v1/users`, 'API.example.com:8080')).body).toContain('api');
    expect((await get(`${running.url}/chat/rooms?x=1`, 'www.example.com')).body).toContain('chat');
    expect(chat.received.at(-1)?.url).toBe('/rooms?x=1');
    expect((await get(`${running.url}/chatx`, 'www.example.com')).body).toContain('web');
    expect((await get(`${running.url}/x/../chat`, 'www.example.com')).body).toContain('chat');
    expect(chat.received.at(-1)?.url).toBe('/');
    expect(eventsOf(running, 'request').map((event) => event.pool)).toEqual([
      'api',
      'chat',
      'http',
      'chat',
    ]);
  });

  it('routes WebSocket upgrades like requests, to the route websocket_pool', async () => {
    const started: TestWsBackend[] = [];
    const wsBackend = async (name: string) => {
      const backend = await startWsBackend(name);
      started.push(backend);
      return backend;
    };
    try {
      const web = await wsBackend('web');
      const chat = await wsBackend('chat');
      const sockets = await wsBackend('sockets');
      const running = await harness.proxy(`[http]
server1=${web.address}
[pool:chat]
server1=${chat.address}
[websocket]
server1=${sockets.address}
[route:chat]
path_prefix=/chat
pool=http
websocket_pool=chat
[route:plain]
path_prefix=/plain
pool=http
`);
      const cleanups: (() => void)[] = [];
      const wsUrl = running.url.replace('http://', 'ws://');
      const toChat = await openRecording(`${wsUrl}/chat/room1`, (c) => cleanups.push(c));
      await echoOf(toChat, 'hello');
      expect(chat.upgrades.map((upgrade) => upgrade.url)).toEqual(['/chat/room1']);
      expect(eventsOf(running, 'websocket-open').map((event) => event.pool)).toEqual(['chat']);
      const toWeb = await openRecording(`${wsUrl}/other`, (c) => cleanups.push(c));
      await echoOf(toWeb, 'hi');
      expect(sockets.upgrades.map((upgrade) => upgrade.url)).toEqual(['/other']);
      // websocket_pool defaults to pool: upgrades under /plain go to [http]'s servers.
      const toHttp = await openRecording(`${wsUrl}/plain/x`, (c) => cleanups.push(c));
      await echoOf(toHttp, 'plain');
      expect(web.upgrades.map((upgrade) => upgrade.url)).toEqual(['/plain/x']);
      for (const cleanup of cleanups) cleanup();
    } finally {
      for (const backend of started) await backend.close();
    }
  });

  it('lists the routes and explains a match on the admin listener', async () => {
    const web = await harness.backend('web');
    const api = await harness.backend('api');
    const running = await harness.proxy(`[http]
server1=${web.address}
[pool:api]
server1=${api.address}
[route:api]
host=api.example.com
path_prefix=/v1
pool=api
[route:all-api]
host=*.example.com
pool=api
[admin]
host=127.0.0.1
port=0
`);
    const admin = `http://127.0.0.1:${running.proxy.adminAddress?.port ?? 0}`;
    const listed = await request(`${admin}/routes`, { dispatcher: harness.client });
    expect(listed.statusCode).toBe(200);
    expect(await listed.body.json()).toMatchObject({
      routes: [
        { name: 'api', hosts: ['api.example.com'], pathPrefix: '/v1', pool: 'api' },
        { name: 'all-api', hosts: ['*.example.com'], pathPrefix: null, websocketPool: 'api' },
      ],
      default: ['http', 'http'],
    });
    const query = new URLSearchParams({ host: 'API.example.com:443', path: '/v1/../v1/users?x=1' });
    const matched = await request(`${admin}/routes/match?${query.toString()}`, {
      dispatcher: harness.client,
    });
    expect(await matched.body.json()).toEqual({
      host: 'api.example.com',
      path: '/v1/users',
      route: 'api',
      pool: 'api',
      websocketPool: 'api',
      candidates: [
        {
          route: 'api',
          hostKind: 'exact',
          host: 'api.example.com',
          pathPrefix: '/v1',
          priority: null,
          why: 'chosen',
        },
        {
          route: 'all-api',
          hostKind: 'wildcard',
          host: '*.example.com',
          pathPrefix: null,
          priority: null,
          why: 'a wildcard host comes after an exact host',
        },
      ],
    });
    const none = await request(`${admin}/routes/match?host=other.test&path=/`, {
      dispatcher: harness.client,
    });
    expect(await none.body.json()).toMatchObject({ route: null, pool: 'http', candidates: [] });
  });
});

describe('route and pool names on the admin listener', () => {
  const harness = useHarness();

  it('/status and /metrics name the pools and count requests by route', async () => {
    const web = await harness.backend('web');
    const api = await harness.backend('api');
    const running = await harness.proxy(`[http]
server1=${web.address}
[pool:api]
server1=${api.address}
enable_health_check=true
health_check_interval=0.2
[route:api]
path_prefix=/api
pool=api
[admin]
host=127.0.0.1
port=0
`);
    for (const path of ['/api/a', '/api/b', '/other']) {
      const answer = await request(`${running.url}${path}`, { dispatcher: harness.client });
      await answer.body.text();
    }
    const admin = `http://127.0.0.1:${running.proxy.adminAddress?.port ?? 0}`;
    const status = (await (
      await request(`${admin}/status`, { dispatcher: harness.client })
    ).body.json()) as {
      pools: { name: string; servers: { requests: { served: number } }[] }[];
      routes: unknown[];
    };
    expect(status.pools.map((pool) => pool.name)).toEqual(['http', 'api']);
    expect(status.pools[1]?.servers[0]?.requests.served).toBe(2);
    expect(status.routes).toEqual([{ name: 'api', requests: 2, websockets: 0 }]);
    await waitUntil(
      () => eventsOf(running, 'health-check').some((event) => event.pool === 'api'),
      'a health check of the api pool',
    );
    const metrics = await (
      await request(`${admin}/metrics`, { dispatcher: harness.client })
    ).body.text();
    expect(metrics).toContain('rxproxy_route_requests_total{route="api",code="2xx"} 2');
    expect(metrics).toContain('rxproxy_route_requests_total{route="",code="2xx"} 1');
    expect(metrics).toMatch(/rxproxy_requests_total\{pool="api",server="server1",code="2xx"\} 2/);
    expect(metrics).toMatch(
      /rxproxy_health_checks_total\{pool="api",server="server1",result="up"\} [1-9]/,
    );
  });
});

describe('a server listed in two pools', () => {
  const harness = useHarness();

  it('is probed once per interval when both pools check it the same way', async () => {
    const shared = await harness.backend('shared');
    const check = 'enable_health_check=true\nhealth_check_interval=0.3';
    const running = await harness.proxy(`[http]
server1=${shared.address}
${check}
[pool:api]
server7=${shared.address}
${check}
[route:api]
path_prefix=/api
pool=api
`);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const probes = shared.received.filter((received) => received.url === '/healthCheck').length;
    const checks = eventsOf(running, 'health-check');
    // Both pools see a result every interval, from one request per interval between them.
    expect(checks.filter((event) => event.pool === 'http').length).toBeGreaterThanOrEqual(4);
    expect(checks.filter((event) => event.pool === 'api').length).toBeGreaterThanOrEqual(4);
    expect(
      checks.filter((event) => event.pool === 'api').every((e) => e.backend === 'server7'),
    ).toBe(true);
    expect(probes).toBeGreaterThanOrEqual(4);
    expect(probes).toBeLessThanOrEqual(7);
  });
});
