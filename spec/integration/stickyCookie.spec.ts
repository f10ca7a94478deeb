import type { IncomingMessage } from 'node:http';
import { WebSocket } from 'ws';
import { stickyValue } from '../../src/forwarding/stickyCookie';
import { slowly, type TestBackend } from '../helpers/backend';
import { useHarness } from '../helpers/harness';
import { send, type Answer, type RunningProxy } from '../helpers/proxy';
import { reloadIni } from '../helpers/reload';
import { waitUntil } from '../helpers/waitUntil';
import { startWsBackend, type TestWsBackend } from '../helpers/wsBackend';

const sticky = (...lines: string[]) =>
  ['[http]', 'algorithm=round-robin', 'sticky=cookie', ...lines].join('\n');

const backendOf = (answer: Answer) => (JSON.parse(answer.body) as { backend: string }).backend;
const setCookieOf = (answer: Answer) => {
  const value = answer.headers['set-cookie'];
  return Array.isArray(value) ? value.join('\n') : value;
};
/** The `name=value` part of a Set-Cookie. */
const cookiePart = (setCookie: string | undefined) => (setCookie ?? '').split(';')[0] ?? '';

describe('sticky = cookie', () => {
  const harness = useHarness();

  async function twoBackends(): Promise<[TestBackend, TestBackend]> {
    return [await harness.backend('a'), await harness.backend('b')];
  }
  const get = (running: RunningProxy, cookie?: string, path = '/') =>
    send(harness.client, `${running.url}${path}`, cookie === undefined ? {} : { cookie });

  it('pins a client to the server of its first answer; the cookie goes to the backend unchanged', async () => {
    const [a, b] = await twoBackends();
    const running = await harness.proxy(sticky(`server1=${a.address}`, `server2=${b.address}`));
    const first = await get(running);
    const setCookie = setCookieOf(first);
    expect(setCookie).toBe(
      `rxproxy_server=${stickyValue(backendOf(first) === 'a' ? a.address : b.address)}; Path=/; HttpOnly; SameSite=Lax`,
    );
    const cookie = `app=1; ${cookiePart(setCookie)}`;
    const next = await Promise.all([1, 2, 3, 4, 5, 6].map(() => get(running, cookie)));
    expect(next.map(backendOf)).toEqual(Array(6).fill(backendOf(first)));
    expect(next.map(setCookieOf)).toEqual(Array(6).fill(undefined));
    const pinned = backendOf(first) === 'a' ? a : b;
    expect(pinned.received.at(-1)?.headers.cookie).toBe(cookie);
    // Clients without the cookie are still balanced by the algorithm.
    const fresh = await Promise.all([1, 2].map(() => get(running)));
    expect(fresh.map(backendOf).sort()).toEqual(['a', 'b']);
  });

  it('a full server: requests with its cookie wait for it rather than spill to another', async () => {
    const a = await harness.backend('a', slowly(150));
    const b = await harness.backend('b');
    const running = await harness.proxy(
      sticky(`server1=${a.address}`, `server2=${b.address}`, 'max_workers=1', 'buffer_size=1'),
    );
    const cookie = `rxproxy_server=${stickyValue(a.address)}`;
    const answers = await Promise.all([1, 2, 3, 4, 5].map((i) => get(running, cookie, `/p${i}`)));
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200]);
    expect(answers.map(backendOf)).toEqual(['a', 'a', 'a', 'a', 'a']);
    expect(b.received).toHaveLength(0);
  });

  it('a forged value, a server drained or removed: balanced, with a new cookie', async () => {
    const [a, b] = await twoBackends();
    const servers = [`server1=${a.address}`, `server2=${b.address}`];
    const running = await harness.proxy(sticky(...servers));
    const forged = await get(running, 'rxproxy_server=0123456789abcdef');
    expect(setCookieOf(forged)).toContain(`rxproxy_server=${stickyValue(a.address)}`);

    const onB = `rxproxy_server=${stickyValue(b.address)}`;
    running.proxy.control('http', 'server2', { action: 'drain' });
    const drained = await get(running, onB);
    expect(backendOf(drained)).toBe('a');
    expect(cookiePart(setCookieOf(drained))).toBe(`rxproxy_server=${stickyValue(a.address)}`);
    running.proxy.control('http', 'server2', { action: 'enable' });
    expect(backendOf(await get(running, onB))).toBe('b');

    await reloadIni(running, sticky(`server1=${a.address}`));
    const removed = await get(running, onB);
    expect(backendOf(removed)).toBe('a');
    expect(cookiePart(setCookieOf(removed))).toBe(`rxproxy_server=${stickyValue(a.address)}`);
  });

  it('a pinned server that refuses connections: the request goes to another, re-pinned', async () => {
    const [a, b] = await twoBackends();
    const running = await harness.proxy(sticky(`server1=${a.address}`, `server2=${b.address}`));
    const onB = `rxproxy_server=${stickyValue(b.address)}`;
    expect(backendOf(await get(running, onB))).toBe('b');
    await b.close();
    const moved = await get(running, onB, '/after');
    expect(moved.status).toBe(200);
    expect(backendOf(moved)).toBe('a');
    expect(cookiePart(setCookieOf(moved))).toBe(`rxproxy_server=${stickyValue(a.address)}`);
  });

  describe('WebSocket upgrades', () => {
    /** Serves plain HTTP with its name (JSON) and greets each WebSocket with its name. */
    async function appServer(name: string): Promise<TestWsBackend> {
      const started = await startWsBackend(name, {
        onConnection: (socket) => socket.send(name),
        onRequest: (_req, res) => res.end(JSON.stringify({ backend: name })),
      });
      harness.onCleanup(() => started.close());
      return started;
    }

    /** Opens a WebSocket with `cookie`; resolves with the greeting and the 101's Set-Cookie. */
    async function upgrade(running: RunningProxy, cookie?: string) {
      const ws = new WebSocket(`ws://127.0.0.1:${running.address.port}/`, {
        headers: cookie === undefined ? {} : { cookie },
      });
      harness.onCleanup(() => ws.terminate());
      let setCookie: string | undefined;
      ws.once('upgrade', (response: IncomingMessage) => {
        setCookie = response.headers['set-cookie']?.join('\n');
      });
      const greeting = await new Promise<string>((resolve, reject) => {
        ws.once('message', (data: Buffer) => resolve(data.toString()));
        ws.once('error', reject);
      });
      ws.close();
      return { greeting, setCookie };
    }

    it('an upgrade carrying the cookie of a long-polling session reaches the same server', async () => {
      const [a, b] = [await appServer('a'), await appServer('b')];
      const running = await harness.proxy(sticky(`server1=${a.address}`, `server2=${b.address}`));
      const cookies: string[] = [];
      for (let i = 0; i < 4; i++) {
        const polled = await get(running);
        const cookie = cookiePart(setCookieOf(polled));
        cookies.push(cookie);
        const upgraded = await upgrade(running, cookie);
        expect(upgraded).toEqual({ greeting: backendOf(polled), setCookie: undefined });
      }
      expect(new Set(cookies).size).toBe(2);
      // Without a cookie, the 101 pins the client.
      const fresh = await upgrade(running);
      const server = fresh.greeting === 'a' ? a : b;
      expect(fresh.setCookie).toBe(
        `rxproxy_server=${stickyValue(server.address)}; Path=/; HttpOnly; SameSite=Lax`,
      );
    });

    it('[websocket] with sticky = cookie follows the cookie [http] issued, by address', async () => {
      const [a, b] = [await appServer('a'), await appServer('b')];
      const running = await harness.proxy(
        [
          sticky(`server1=${a.address}`, `server2=${b.address}`),
          // The WebSocket pool lists the servers in the other order, under other names.
          sticky(`server1=${b.address}`, `server2=${a.address}`).replace('[http]', '[websocket]'),
        ].join('\n'),
      );
      for (let i = 0; i < 4; i++) {
        const polled = await get(running);
        const upgraded = await upgrade(running, cookiePart(setCookieOf(polled)));
        expect(upgraded.greeting).toBe(backendOf(polled));
      }
    });
  });

  it('sticky = none (the default) sets no cookie', async () => {
    const [a, b] = await twoBackends();
    const running = await harness.proxy(
      ['[http]', 'algorithm=round-robin', `server1=${a.address}`, `server2=${b.address}`].join(
        '\n',
      ),
    );
    const answers = await Promise.all([1, 2].map(() => get(running)));
    expect(answers.map(setCookieOf)).toEqual([undefined, undefined]);
    await waitUntil(() => a.received.length + b.received.length === 2, 'both answered');
  });
});
