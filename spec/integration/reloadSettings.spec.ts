import type { IncomingHttpHeaders } from 'node:http';
import { request } from 'undici';
import { WebSocket } from 'ws';
import { slowly, unusedPort } from '../helpers/backend';
import { useHarness } from '../helpers/harness';
import { configFromIni, eventsOf, send, startProxy, type RunningProxy } from '../helpers/proxy';
import { reloadIni } from '../helpers/reload';
import { waitUntil } from '../helpers/waitUntil';
import { startWsBackend } from '../helpers/wsBackend';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('reload: hooks and admin', () => {
  const harness = useHarness();

  /** The 101's headers of a WebSocket handshake through the proxy; the socket is closed. */
  async function switchingHeaders(running: RunningProxy): Promise<IncomingHttpHeaders> {
    const ws = new WebSocket(`ws://127.0.0.1:${running.address.port}/chat`);
    harness.onCleanup(() => ws.terminate());
    const headers = await new Promise<IncomingHttpHeaders>((resolve, reject) => {
      ws.once('upgrade', (response) => resolve(response.headers));
      ws.once('error', reject);
    });
    ws.close();
    return headers;
  }

  it('[hooks]: request_id and header lines turned on and changed apply to the next request and handshake', async () => {
    const a = await harness.backend('a');
    const w = await startWsBackend('w');
    harness.onCleanup(() => w.close());
    const pools = `[http]\nserver1=${a.address}\n[websocket]\nserver1=${w.address}\n`;
    const hooks = (value: string) =>
      `${pools}[hooks]\nrequest_id=true\nrequest_header1=X-Env: ${value}\n` +
      `response_header1=X-Version: ${value}\n`;
    const running = await harness.proxy(pools);
    const plain = await send(harness.client, `${running.url}/before`);
    expect(plain.headers['x-version']).toBeUndefined();
    expect(a.received[0]?.headers['x-request-id']).toBeUndefined();

    expect(await reloadIni(running, hooks('one'))).toBe(
      'hooks: request_id, request_header, response_header',
    );
    const hooked = await send(harness.client, `${running.url}/one`);
    expect(hooked.headers['x-version']).toBe('one');
    expect(hooked.headers['x-request-id']).toMatch(UUID);
    expect(a.received[1]?.headers['x-request-id']).toBe(hooked.headers['x-request-id']);
    expect(a.received[1]?.headers['x-env']).toBe('one');
    expect((await switchingHeaders(running))['x-version']).toBe('one');
    expect(w.upgrades[0]?.headers['x-env']).toBe('one');

    expect(await reloadIni(running, hooks('two'))).toBe('hooks: request_header, response_header');
    expect((await send(harness.client, `${running.url}/two`)).headers['x-version']).toBe('two');
    expect(a.received[2]?.headers['x-env']).toBe('two');
    expect((await switchingHeaders(running))['x-version']).toBe('two');
    expect(w.upgrades[1]?.headers['x-env']).toBe('two');
  });

  it('[admin]: a new port moves the admin listener', async () => {
    const a = await harness.backend('a');
    const admin = (port: number) => `[http]\nserver1=${a.address}\n[admin]\nport=${port}\n`;
    const running = await harness.proxy(admin(0));
    const before = running.proxy.adminAddress?.port ?? 0;
    expect(before).toBeGreaterThan(0);
    const port = await unusedPort();
    expect(await reloadIni(running, admin(port))).toBe('admin: port (rebind)');
    expect(running.proxy.adminAddress?.port).toBe(port);
    const live = await request(`http://127.0.0.1:${port}/livez`);
    expect(live.statusCode).toBe(200);
    await live.body.dump();
    await expect(request(`http://127.0.0.1:${before}/livez`, { reset: true })).rejects.toThrow(
      /ECONNREFUSED/,
    );
  });

  it('[frontend] port: a request in flight on the old listener is served to the end', async () => {
    const a = await harness.backend('a', slowly(400));
    const running = await harness.proxy(`[http]\nserver1=${a.address}`);
    const inFlight = send(harness.client, `${running.url}/slow`);
    await waitUntil(() => a.received.length === 1, 'the request reached the backend');
    const port = await unusedPort();
    const moved = `[frontend]\nhost=127.0.0.1\nport=${port}\n[http]\nserver1=${a.address}`;
    expect(await running.proxy.reload(configFromIni(moved))).toBe('frontend: port (rebind)');
    expect(await inFlight).toMatchObject({ status: 200, body: '{"backend":"a"}' });
    expect((await send(harness.client, `http://127.0.0.1:${port}/new`)).status).toBe(200);
  });

  // Linux refuses the wildcard address on a port a loopback listener holds: the old listener
  // stops accepting first, and the gap is logged.
  it('[frontend] host on the same port where both cannot be bound: the old one closes first, logged', async () => {
    const a = await harness.backend('a');
    const port = await unusedPort();
    const door = (host: string) =>
      `[frontend]\nhost=${host}\nport=${port}\n[http]\nserver1=${a.address}`;
    const running = await startProxy(door('127.0.0.1'));
    harness.onCleanup(() => running.stop());
    expect(await running.proxy.reload(configFromIni(door('0.0.0.0')))).toBe(
      'frontend: host (rebind)',
    );
    expect(running.proxy.config.frontend.host).toBe('0.0.0.0');
    const gaps = eventsOf(running, 'internal-error');
    expect(gaps.map((event) => event.source)).toEqual(['reload']);
    expect(gaps[0]?.message).toContain('cannot be bound twice');
    expect((await send(harness.client, `${running.url}/still`)).status).toBe(200);
  });
});
