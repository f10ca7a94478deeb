import { connect } from 'node:net';
import { request } from 'undici';
import type { ProxyStatus } from '../../src/observability/statusReport';
import { readEvents } from '../helpers/eventStream';
import { useHarness } from '../helpers/harness';
import { send, type RunningProxy } from '../helpers/proxy';
import { waitUntil } from '../helpers/waitUntil';

const TOKEN = 's3cret-admin-token';

function adminUrl(running: RunningProxy, path: string): string {
  const address = running.proxy.adminAddress;
  if (!address) throw new Error('no admin listener');
  return `http://127.0.0.1:${address.port}${path}`;
}

async function adminJson(
  running: RunningProxy,
  path: string,
  headers: Record<string, string> = {},
) {
  const response = await request(adminUrl(running, path), { headers });
  const text = await response.body.text();
  return {
    status: response.statusCode,
    headers: response.headers,
    body: JSON.parse(text) as unknown,
  };
}

async function status(running: RunningProxy): Promise<ProxyStatus> {
  return (await adminJson(running, '/status')).body as ProxyStatus;
}

describe('admin listener', () => {
  const harness = useHarness();
  const admin = (extra = '') => `[admin]\nhost=127.0.0.1\nport=0\n${extra}\n`;

  /** server1 answers 500 and is ejected after 2 failures (for eject_time=30 s); server2 is fine. */
  async function ejectServer1(): Promise<RunningProxy> {
    const bad = await harness.backend('bad', (_req, res) => {
      res.statusCode = 500;
      res.end('no');
    });
    const good = await harness.backend('good');
    const ini = [
      '[http]',
      'algorithm=round-robin',
      `server1=${bad.address}`,
      `server2=${good.address}`,
      'max_fails=2',
      'eject_time=30',
      admin(),
    ].join('\n');
    const running = await harness.proxy(ini);
    for (let i = 0; i < 6; i++) await send(harness.client, `${running.url}/x`);
    await waitUntil(
      () => running.events.some((event) => event.type === 'health' && !event.healthy),
      'server1 is ejected',
    );
    return running;
  }

  it('is off without [admin] port', async () => {
    const backend = await harness.backend('one');
    const running = await harness.proxy(`[http]\nserver1=${backend.address}\n`);
    expect(running.proxy.adminAddress).toBeUndefined();
  });

  it('answers /livez and /readyz, and 404/405 as JSON', async () => {
    const backend = await harness.backend('one');
    const running = await harness.proxy(`[http]\nserver1=${backend.address}\n${admin()}`);
    expect(await adminJson(running, '/livez')).toMatchObject({
      status: 200,
      body: { status: 'ok' },
    });
    expect(await adminJson(running, '/readyz')).toMatchObject({
      status: 200,
      body: { status: 'ready' },
    });
    expect(await adminJson(running, '/nope')).toMatchObject({
      status: 404,
      body: { error: 'not found' },
    });
    const post = await request(adminUrl(running, '/status'), { method: 'POST', body: 'x' });
    expect(post.statusCode).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
    expect(JSON.parse(await post.body.text())).toEqual({ error: 'method not allowed' });
  });

  it('is a separate server: the front door passes /status and /metrics to the backend', async () => {
    const backend = await harness.backend('one');
    const running = await harness.proxy(`[http]\nserver1=${backend.address}\n${admin()}`);
    const answer = await send(harness.client, `${running.url}/status`);
    expect(answer.status).toBe(200);
    expect(backend.received.map((received) => received.url)).toEqual(['/status']);
  });

  it('is not ready while no backend is in rotation', async () => {
    const ini = [
      '[http]',
      'server1=127.0.0.1:9',
      'enable_health_check=true',
      'health_check_interval=0.05',
      'health_check_timeout=0.05',
      admin(),
    ].join('\n');
    const running = await harness.proxy(ini);
    await waitUntil(
      () => running.events.some((event) => event.type === 'health'),
      'the backend leaves rotation',
    );
    expect(await adminJson(running, '/readyz')).toEqual(
      expect.objectContaining({
        status: 503,
        body: { status: 'not ready', reason: 'no backend in rotation' },
      }),
    );
    expect((await adminJson(running, '/livez')).status).toBe(200);
  });

  it('shows the traffic it saw in /status: 30 requests to server1 are 30 served', async () => {
    const backend = await harness.backend('one');
    const running = await harness.proxy(`[http]\nserver1=${backend.address}\n${admin()}`);
    for (let i = 0; i < 30; i++)
      expect((await send(harness.client, `${running.url}/x`)).status).toBe(200);
    const report = await status(running);
    expect(report.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(report.configFile).toBe('test.ini');
    expect(report.ready).toBe(true);
    const [pool] = report.pools;
    expect(pool?.name).toBe('http');
    const [server] = pool?.servers ?? [];
    expect(server).toMatchObject({
      name: 'server1',
      address: backend.address,
      inRotation: true,
      out: null,
      weight: { static: 1, effective: 1 },
      requests: { inFlight: 0, served: 30, failed: 0, abandoned: 0 },
      websockets: { open: 0, total: 0 },
      queueDepth: 0,
    });
    expect(server?.workers?.idle).toBeGreaterThanOrEqual(1);
    expect(server?.latency.counts.at(-1)).toBe(30);
    expect(server?.latency.bounds).toEqual([
      0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
    ]);
  });

  it('shows an ejection in /status with its cause and return time', async () => {
    const running = await ejectServer1();
    const server = (await status(running)).pools[0]?.servers[0];
    expect(server?.out?.cause).toBe('ejection');
    expect(server?.out?.reason).toMatch(/^ejected after 2 failures/);
    const returnsIn = Date.parse(server?.out?.returnsAt ?? '') - Date.now();
    expect(returnsIn).toBeGreaterThan(20_000);
    expect(returnsIn).toBeLessThanOrEqual(30_000);
    expect(server?.weight.effective).toBe(0);
    expect(server?.requests.failed).toBeGreaterThanOrEqual(2);
  });

  it('with a token: 401 without it, the header or the dashboard cookie let in, probes stay open', async () => {
    const backend = await harness.backend('one');
    const running = await harness.proxy(
      `[http]\nserver1=${backend.address}\n${admin(`token=${TOKEN}`)}`,
    );
    const refused = await adminJson(running, '/status');
    expect(refused).toMatchObject({ status: 401, body: { error: 'unauthorized' } });
    expect(refused.headers['www-authenticate']).toBe('Bearer realm="rxproxy"');
    expect((await adminJson(running, '/status', { authorization: 'Bearer wrong' })).status).toBe(
      401,
    );
    expect((await adminJson(running, '/status', { authorization: `Bearer ${TOKEN}` })).status).toBe(
      200,
    );
    expect((await adminJson(running, '/livez')).status).toBe(200);
    expect((await adminJson(running, '/readyz')).status).toBe(200);
    expect((await request(adminUrl(running, '/?token=wrong'))).statusCode).toBe(401);

    const page = await request(adminUrl(running, `/?token=${TOKEN}`));
    expect(page.statusCode).toBe(200);
    await page.body.text();
    const cookie = String(page.headers['set-cookie']);
    expect(cookie).toMatch(/^rxproxy_admin=[0-9a-f]{64}; Path=\/; HttpOnly; SameSite=Strict$/);
    expect(cookie).not.toContain(TOKEN);
    const withCookie = { cookie: cookie.split(';')[0] ?? '' };
    expect((await adminJson(running, '/status', withCookie)).status).toBe(200);
    const feed = await readEvents(
      adminUrl(running, '/events?type=request'),
      1,
      async () => {
        await send(harness.client, `${running.url}/x`);
      },
      withCookie,
    );
    expect(feed.status).toBe(200);
    expect(feed.events.map((event) => event.type)).toEqual(['request']);
  });

  it('streams events as server-sent events, filtered by ?type=', async () => {
    const backend = await harness.backend('one');
    const running = await harness.proxy(`[http]\nserver1=${backend.address}\n${admin()}`);
    const feed = await readEvents(adminUrl(running, '/events?type=request'), 3, async () => {
      for (let i = 0; i < 3; i++) await send(harness.client, `${running.url}/e${i}`);
    });
    expect(feed.status).toBe(200);
    expect(feed.headers['content-type']).toBe('text/event-stream');
    expect(feed.events).toEqual(
      ['/e0', '/e1', '/e2'].map((url): unknown =>
        expect.objectContaining({
          type: 'request',
          pool: 'http',
          url,
          backend: 'server1',
          status: 200,
        }),
      ),
    );
    expect(Number.isNaN(Date.parse(feed.events[0]?.time ?? ''))).toBe(false);
    expect(await adminJson(running, '/events?type=request,bogus')).toMatchObject({
      status: 400,
      body: { error: 'unknown event type: bogus' },
    });
  });

  it('survives garbage on the admin port', async () => {
    const backend = await harness.backend('one');
    const running = await harness.proxy(`[http]\nserver1=${backend.address}\n${admin()}`);
    const port = running.proxy.adminAddress?.port ?? 0;
    const reply = await new Promise<string>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => socket.end('\x16\x03\x01garbage\r\n\r\n'));
      let text = '';
      socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
      socket.on('close', () => resolve(text));
      socket.on('error', () => resolve(text));
    });
    expect(reply).toMatch(/^HTTP\/1\.1 400/);
    expect((await adminJson(running, '/livez')).status).toBe(200);
  });

  it('on stop with shutdown_delay: /readyz is 503 at once while requests still succeed, then it drains', async () => {
    const backend = await harness.backend('one');
    const running = await harness.proxy(
      `[http]\nserver1=${backend.address}\n${admin()}`,
      'shutdown_delay=0.6',
    );
    const stopped = running.proxy.stop();
    const readyz = await adminJson(running, '/readyz');
    expect(readyz).toMatchObject({
      status: 503,
      body: { status: 'not ready', reason: 'shutting down' },
    });
    expect((await send(harness.client, `${running.url}/during-delay`)).status).toBe(200);
    expect(running.events.some((event) => event.type === 'draining')).toBe(false);
    await stopped;
    expect(running.events.some((event) => event.type === 'draining')).toBe(true);
    expect(backend.received.map((received) => received.url)).toContain('/during-delay');
  });

  it('counts traffic in /metrics: 30 requests to server1 are 30 in the counter and the histogram', async () => {
    const backend = await harness.backend('one');
    const running = await harness.proxy(`[http]\nserver1=${backend.address}\n${admin()}`);
    for (let i = 0; i < 30; i++) await send(harness.client, `${running.url}/x`);
    const response = await request(adminUrl(running, '/metrics'));
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await response.body.text();
    expect(text).toContain('rxproxy_requests_total{pool="http",server="server1",code="2xx"} 30\n');
    expect(text).toContain(
      'rxproxy_request_duration_seconds_count{pool="http",server="server1"} 30\n',
    );
    expect(text).toContain('rxproxy_server_up{pool="http",server="server1"} 1\n');
    expect(text).toMatch(/^process_cpu_user_seconds_total /m);
  });

  it('shows an ejection as rxproxy_server_up 0 and in rxproxy_ejections_total', async () => {
    const running = await ejectServer1();
    const text = await (await request(adminUrl(running, '/metrics'))).body.text();
    expect(text).toContain('rxproxy_server_up{pool="http",server="server1"} 0\n');
    expect(text).toContain('rxproxy_server_up{pool="http",server="server2"} 1\n');
    expect(text).toContain('rxproxy_ejections_total{pool="http",server="server1"} 1\n');
    expect(text).toContain('rxproxy_requests_total{pool="http",server="server1",code="5xx"} 2\n');
  });
});
