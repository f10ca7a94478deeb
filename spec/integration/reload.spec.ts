import { request } from 'undici';
import { slowly, unusedPort } from '../helpers/backend';
import { useHarness } from '../helpers/harness';
import { configFromIni, eventsOf, send } from '../helpers/proxy';
import { reloadIni, roundRobin as pool, spread } from '../helpers/reload';
import { waitUntil } from '../helpers/waitUntil';

describe('reload', () => {
  const harness = useHarness();

  it('adds a server: it takes traffic at once, the others keep their connections', async () => {
    const [a, b] = [await harness.backend('a'), await harness.backend('b')];
    const running = await harness.proxy(pool(`server1=${a.address}`));
    expect(await spread(running, harness.client, 4)).toEqual({ a: 4 });
    const connections = a.connections.total;
    const summary = await reloadIni(running, pool(`server1=${a.address}`, `server2=${b.address}`));
    expect(summary).toBe('http: +server2');
    expect(await spread(running, harness.client, 4)).toEqual({ a: 2, b: 2 });
    expect(a.connections.total).toBe(connections);
    expect(eventsOf(running, 'config-applied')).toEqual([
      { type: 'config-applied', trigger: 'api', summary: 'http: +server2' },
    ]);
  });

  it('removes a server: out of rotation at once, its request in flight finishes', async () => {
    const a = await harness.backend('a', slowly(400));
    const b = await harness.backend('b');
    const running = await harness.proxy(pool(`server1=${a.address}`, `server2=${b.address}`));
    const inFlight = send(harness.client, `${running.url}/slow`);
    await waitUntil(() => a.received.length === 1, 'the slow request reached a');
    await reloadIni(running, pool(`server2=${b.address}`));
    expect(await spread(running, harness.client, 4)).toEqual({ b: 4 });
    const answer = await inFlight;
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ backend: 'a' });
    await waitUntil(() => a.connections.open === 0, 'the removed server is closed');
  });

  it('changes a weight in place, without reconnecting', async () => {
    const [a, b] = [await harness.backend('a'), await harness.backend('b')];
    const lines = (weight: number) =>
      [
        '[http]',
        'algorithm=weighted-round-robin',
        `server1=${a.address}`,
        `server1_weight=${weight}`,
        `server2=${b.address}`,
      ].join('\n');
    const running = await harness.proxy(lines(1));
    expect(await spread(running, harness.client, 4)).toEqual({ a: 2, b: 2 });
    const before = [a.connections.total, b.connections.total];
    expect(await reloadIni(running, lines(3))).toBe('http: server1 weight');
    expect(await spread(running, harness.client, 8)).toEqual({ a: 6, b: 2 });
    expect([a.connections.total, b.connections.total]).toEqual(before);
  });

  it('changes the algorithm for the next decision', async () => {
    const [a, b] = [await harness.backend('a'), await harness.backend('b')];
    const running = await harness.proxy(pool(`server1=${a.address}`, `server2=${b.address}`));
    const hashed = [
      '[http]',
      'algorithm=consistent-hash',
      'hash_key=path',
      `server1=${a.address}`,
      `server2=${b.address}`,
    ].join('\n');
    expect(await reloadIni(running, hashed)).toMatch(/algorithm/);
    const first = await send(harness.client, `${running.url}/same`);
    for (let i = 0; i < 4; i++) {
      expect((await send(harness.client, `${running.url}/same`)).body).toBe(first.body);
    }
  });

  it('adds a [websocket] section without a restart; HTTP requests stay on [http]', async () => {
    const a = await harness.backend('a');
    const running = await harness.proxy(pool(`server1=${a.address}`));
    const withWebsocket = `${pool(`server1=${a.address}`)}\n[websocket]\nserver1=${a.address}\n`;
    expect(await reloadIni(running, withWebsocket)).toBe('websocket (added): +server1');
    expect(running.proxy.live.pools().map((live) => live.name)).toEqual(['http', 'websocket']);
    expect(eventsOf(running, 'config-applied')).toHaveLength(1);
    expect(await spread(running, harness.client, 2)).toEqual({ a: 2 });
  });

  it('moves the front door to a new port; the old one stops accepting', async () => {
    const a = await harness.backend('a');
    const running = await harness.proxy(pool(`server1=${a.address}`));
    const port = await unusedPort();
    const moved = `[frontend]\nhost=127.0.0.1\nport=${port}\n${pool(`server1=${a.address}`)}`;
    expect(await running.proxy.reload(configFromIni(moved))).toBe('frontend: port (rebind)');
    expect(running.proxy.address?.port).toBe(port);
    const answer = await request(`http://127.0.0.1:${port}/x`);
    expect(answer.statusCode).toBe(200);
    await answer.body.text();
    await expect(request(`${running.url}/x`, { reset: true })).rejects.toThrow();
  });

  it('drains, enables and reweights a server through the admin API', async () => {
    const [a, b] = [await harness.backend('a'), await harness.backend('b')];
    const admin = '[admin]\nhost=127.0.0.1\nport=0\n';
    const running = await harness.proxy(
      `${pool(`server1=${a.address}`, `server2=${b.address}`)}\n${admin}`,
    );
    const base = `http://127.0.0.1:${running.proxy.adminAddress?.port ?? 0}`;
    const post = async (path: string) => {
      const response = await request(`${base}${path}`, { method: 'POST' });
      return { status: response.statusCode, body: await response.body.json() };
    };
    expect(await post('/pools/http/servers/server1/drain')).toMatchObject({ status: 200 });
    expect(await spread(running, harness.client, 4)).toEqual({ b: 4 });
    const status = (await (await request(`${base}/status`)).body.json()) as {
      pools: { servers: { name: string; out: { cause: string } | null }[] }[];
    };
    expect(status.pools[0]?.servers[0]?.out?.cause).toBe('drain');
    // A reload keeps the drain.
    await reloadIni(running, `${pool(`server1=${a.address}`, `server2=${b.address}`)}\n${admin}`);
    expect(await spread(running, harness.client, 2)).toEqual({ b: 2 });
    expect(await post('/pools/http/servers/server1/enable')).toMatchObject({ status: 200 });
    expect(await spread(running, harness.client, 4)).toEqual({ a: 2, b: 2 });
    expect(await post('/pools/http/servers/nope/drain')).toEqual({
      status: 404,
      body: { error: 'unknown server' },
    });
    expect(await post('/pools/nope/servers/server1/drain')).toEqual({
      status: 404,
      body: { error: 'unknown pool' },
    });
    expect(await post('/pools/http/servers/server1/weight?value=0')).toMatchObject({
      status: 400,
    });
    expect(await post('/pools/http/servers/server1/weight?value=3')).toMatchObject({
      status: 200,
    });
  });
});
