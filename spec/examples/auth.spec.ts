import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { unusedPort } from '../helpers/backend';
import { useHarness, type Harness } from '../helpers/harness';
import { rawHandshake } from '../helpers/rawWebSocket';
import { waitUntil } from '../helpers/waitUntil';
import { startWsBackend } from '../helpers/wsBackend';
import { send } from '../helpers/proxy';
import { proxyWithExample } from './exampleProxy';

/** A fake auth service: `Bearer good` is ann, anything else is refused with 403. */
async function startAuthService(
  onCleanup: Harness['onCleanup'],
): Promise<{ url: string; seen: (string | undefined)[] }> {
  const seen: (string | undefined)[] = [];
  const server: Server = createServer((req, res) => {
    seen.push(req.headers.authorization);
    const ok = req.headers.authorization === 'Bearer good';
    res.writeHead(ok ? 200 : 403, { 'content-type': 'application/json' });
    res.end(ok ? '{"user":"ann"}' : '{"error":"no"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onCleanup(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/check`, seen };
}

describe('examples/auth.js', () => {
  const h = useHarness();
  const savedAuthUrl = process.env.AUTH_URL;
  afterEach(() => {
    if (savedAuthUrl === undefined) delete process.env.AUTH_URL;
    else process.env.AUTH_URL = savedAuthUrl;
  });

  async function setUp(authUrl: string) {
    process.env.AUTH_URL = authUrl;
    const backend = await h.backend('b1');
    const wsBackend = await startWsBackend('w1');
    h.onCleanup(() => wsBackend.close());
    const proxy = await proxyWithExample(
      h,
      'auth.js',
      `[http]\nserver1=${backend.address}\n[websocket]\nserver1=${wsBackend.address}\n`,
    );
    return { proxy, backend, wsBackend };
  }

  it('forwards a request the service accepts, with the user it named', async () => {
    const auth = await startAuthService(h.onCleanup);
    const { proxy, backend } = await setUp(auth.url);
    const answer = await send(h.client, `${proxy.url}/orders`, {
      authorization: 'Bearer good',
      'x-user': 'mallory',
    });
    expect(answer.status).toBe(200);
    expect(auth.seen).toEqual(['Bearer good']);
    expect(backend.received).toHaveLength(1);
    expect(backend.received[0]?.headers['x-user']).toBe('ann');
    expect(backend.received[0]?.headers.authorization).toBe('Bearer good');
  });

  it('answers 401 when the service refuses or no credentials came', async () => {
    const auth = await startAuthService(h.onCleanup);
    const { proxy, backend } = await setUp(auth.url);
    const refused = await send(h.client, `${proxy.url}/orders`, { authorization: 'Bearer bad' });
    expect(refused).toMatchObject({ status: 401, body: '{"error":"unauthorized"}' });
    const anonymous = await send(h.client, `${proxy.url}/orders`);
    expect(anonymous).toMatchObject({ status: 401, body: '{"error":"unauthorized"}' });
    expect(auth.seen).toEqual(['Bearer bad', undefined]);
    expect(backend.received).toHaveLength(0);
  });

  it('answers 503 when the service is down', async () => {
    const { proxy, backend } = await setUp(`http://127.0.0.1:${await unusedPort()}/check`);
    const answer = await send(h.client, `${proxy.url}/orders`, { authorization: 'Bearer good' });
    expect(answer).toMatchObject({ status: 503, body: '{"error":"auth unavailable"}' });
    expect(backend.received).toHaveLength(0);
  });

  it('checks 100 requests in flight at once', async () => {
    const auth = await startAuthService(h.onCleanup);
    const { proxy, backend } = await setUp(auth.url);
    const answers = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        send(h.client, `${proxy.url}/many/${i}`, {
          authorization: i % 2 === 0 ? 'Bearer good' : 'Bearer bad',
        }),
      ),
    );
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(50);
    expect(answers.filter((answer) => answer.status === 401)).toHaveLength(50);
    expect(backend.received.map((r) => Number(r.url.split('/')[2]) % 2)).toEqual(
      Array.from({ length: 50 }, () => 0),
    );
  });

  it('refuses a WebSocket handshake before upgrading, and names the user to the backend', async () => {
    const auth = await startAuthService(h.onCleanup);
    const { proxy, wsBackend } = await setUp(auth.url);
    const refused = await rawHandshake(proxy.address.port, h.onCleanup, { path: '/live' });
    expect(refused.head).toMatch(/^HTTP\/1\.1 401 /);
    await waitUntil(() => refused.after().length > 0, 'the refusal body');
    expect(refused.after().toString()).toBe('{"error":"unauthorized"}');
    expect(wsBackend.upgrades).toHaveLength(0);

    const accepted = await rawHandshake(proxy.address.port, h.onCleanup, {
      path: '/live',
      headers: ['Authorization: Bearer good'],
    });
    expect(accepted.head).toMatch(/^HTTP\/1\.1 101 /);
    expect(wsBackend.upgrades.map((upgrade) => upgrade.headers['x-user'])).toEqual(['ann']);
  });
});
