import type { ServerResponse } from 'node:http';
import { answerWithName } from '../helpers/backend';
import { useHarness } from '../helpers/harness';
import { rawHandshake } from '../helpers/rawWebSocket';
import { startWsBackend } from '../helpers/wsBackend';
import { send } from '../helpers/proxy';
import { proxyWithExample } from './exampleProxy';

const COOKIE = /^ab=(a|b); Path=\/; HttpOnly; SameSite=Lax$/;

/** The backend's own answer, plus a session cookie the proxy must keep next to its own. */
function withSessionCookie(
  req: Parameters<typeof answerWithName>[0],
  res: ServerResponse,
  name: string,
) {
  res.setHeader('set-cookie', 'session=1; Path=/');
  answerWithName(req, res, name);
}

describe('examples/ab-pinning.js', () => {
  const h = useHarness();

  async function setUp() {
    const one = await h.backend('one', withSessionCookie);
    const two = await h.backend('two', withSessionCookie);
    const proxy = await proxyWithExample(
      h,
      'ab-pinning.js',
      `[http]\nalgorithm=round-robin\nserver1=${one.address}\nserver2=${two.address}\n`,
    );
    return { proxy, one, two };
  }

  it('keeps a client with a cookie on its variant', async () => {
    const { proxy, one, two } = await setUp();
    for (let i = 0; i < 4; i++) {
      const b = await send(h.client, `${proxy.url}/b/${i}`, { cookie: 'theme=dark; ab=b' });
      expect(b.status).toBe(200);
      expect(b.headers['set-cookie']).toBe('session=1; Path=/');
      await send(h.client, `${proxy.url}/a/${i}`, { cookie: 'ab=a' });
    }
    expect(one.received.map((r) => r.url)).toEqual(['/a/0', '/a/1', '/a/2', '/a/3']);
    expect(two.received.map((r) => r.url)).toEqual(['/b/0', '/b/1', '/b/2', '/b/3']);
  });

  it('gives a new client a variant and the cookie that keeps it there', async () => {
    const { proxy, one, two } = await setUp();
    const variants: string[] = [];
    for (let i = 0; i < 4; i++) {
      const first = await send(h.client, `${proxy.url}/new/${i}`);
      const cookies = first.headers['set-cookie'] as string[];
      expect(cookies[0]).toBe('session=1; Path=/');
      const variant = COOKIE.exec(cookies[1] ?? '')?.[1];
      expect(variant).toBeDefined();
      variants.push(variant ?? '');
      const again = await send(h.client, `${proxy.url}/again/${i}`, { cookie: `ab=${variant}` });
      expect(again.headers['set-cookie']).toBe('session=1; Path=/');
      const seenBy = variant === 'a' ? one : two;
      expect(seenBy.received.map((r) => r.url).slice(-2)).toEqual([`/new/${i}`, `/again/${i}`]);
    }
    expect(variants).toEqual(['a', 'b', 'a', 'b']);
  });

  it('pins a WebSocket handshake by its cookie too', async () => {
    const one = await startWsBackend('one');
    const two = await startWsBackend('two');
    h.onCleanup(() => one.close());
    h.onCleanup(() => two.close());
    const proxy = await proxyWithExample(
      h,
      'ab-pinning.js',
      `[websocket]\nalgorithm=round-robin\nserver1=${one.address}\nserver2=${two.address}\n`,
    );
    for (let i = 0; i < 3; i++) {
      const peer = await rawHandshake(proxy.address.port, h.onCleanup, {
        path: `/live/${i}`,
        headers: ['Cookie: ab=b'],
      });
      expect(peer.head).toMatch(/^HTTP\/1\.1 101 /);
    }
    expect(one.upgrades).toHaveLength(0);
    expect(two.upgrades.map((upgrade) => upgrade.url)).toEqual(['/live/0', '/live/1', '/live/2']);
  });
});
