import { useHarness } from '../helpers/harness';
import type { RunningProxy } from '../helpers/proxy';
import { reloadIni } from '../helpers/reload';
import { sleep, waitUntil } from '../helpers/waitUntil';
import { echo, startWsBackend, type TestWsBackend } from '../helpers/wsBackend';
import { closeOf, echoOf, openRecording, type RecordingClient } from '../helpers/wsClient';

const DRAIN_MS = 500;
const FRONTEND = `drain_timeout=${DRAIN_MS}ms`;

/** A `[websocket]` section with round-robin over the given addresses, server1 first. */
const wsPool = (...addresses: (string | undefined)[]) =>
  [
    '[websocket]',
    'algorithm=round-robin',
    ...addresses.flatMap((address, i) => (address ? [`server${i + 1}=${address}`] : [])),
  ].join('\n');

describe('reload: WebSockets', () => {
  const harness = useHarness();

  /** A WebSocket backend that greets each connection with its name, then echoes. */
  async function greeter(name: string): Promise<TestWsBackend> {
    const started = await startWsBackend(name, {
      onConnection: (socket) => {
        socket.send(name);
        echo(socket);
      },
    });
    harness.onCleanup(() => started.close());
    return started;
  }

  /** A WebSocket through the proxy, with the name of the backend that greeted it. */
  async function through(running: RunningProxy): Promise<{ client: RecordingClient; on: string }> {
    const client = await openRecording(
      `ws://127.0.0.1:${running.address.port}/`,
      harness.onCleanup,
    );
    await waitUntil(() => client.messages.length > 0, 'the greeting');
    return { client, on: client.messages[0] ?? '' };
  }

  async function oneOnEach(running: RunningProxy) {
    const first = await through(running);
    const second = await through(running);
    const byName = new Map([first, second].map((session) => [session.on, session.client]));
    const [a, b] = [byName.get('a'), byName.get('b')];
    if (!a || !b)
      throw new Error(
        `expected one WebSocket on each of a and b, got ${[...byName.keys()].join(', ')}`,
      );
    return { a, b };
  }

  it('removed server: its WebSocket stays open until drain_timeout, then closes with 1001; one on a kept server stays', async () => {
    const [a, b] = [await greeter('a'), await greeter('b')];
    const running = await harness.proxy(wsPool(a.address, b.address), FRONTEND);
    const sessions = await oneOnEach(running);

    const reloadedAt = Date.now();
    expect(await reloadIni(running, wsPool(undefined, b.address), FRONTEND)).toBe(
      'websocket: -server1',
    );
    expect(await echoOf(sessions.a, 'still here')).toBe('still here');
    const closed = await closeOf(sessions.a);
    expect(closed.code).toBe(1001);
    expect(closed.at - reloadedAt).toBeGreaterThanOrEqual(DRAIN_MS);
    await waitUntil(() => a.closes.length === 1, 'the backend side closes');
    expect(a.closes[0]?.code).toBe(1001);

    expect(await echoOf(sessions.b, 'after the drain')).toBe('after the drain');
    expect(b.closes).toEqual([]);
    expect((await through(running)).on).toBe('b');
  });

  it('a server re-added while it drains keeps its WebSockets past drain_timeout', async () => {
    const [a, b] = [await greeter('a'), await greeter('b')];
    const both = wsPool(a.address, b.address);
    const running = await harness.proxy(both, FRONTEND);
    const sessions = await oneOnEach(running);

    const reloadedAt = Date.now();
    await reloadIni(running, wsPool(a.address), FRONTEND);
    expect(await reloadIni(running, both, FRONTEND)).toBe('websocket: +server2');
    await sleep(Math.max(0, reloadedAt + DRAIN_MS * 2 - Date.now()));
    expect(sessions.b.closed).toBeUndefined();
    expect(await echoOf(sessions.b, 'taken back')).toBe('taken back');
    expect(b.closes).toEqual([]);
    expect(sessions.a.closed).toBeUndefined();
  });

  it('changed address: the old address drains, WebSockets to the new one outlive its drain', async () => {
    const [a, c] = [await greeter('a'), await greeter('c')];
    const running = await harness.proxy(wsPool(a.address), FRONTEND);
    const old = await through(running);
    expect(old.on).toBe('a');

    expect(await reloadIni(running, wsPool(c.address), FRONTEND)).toBe(
      'websocket: server1 address',
    );
    const moved = await through(running);
    expect(moved.on).toBe('c');
    expect((await closeOf(old.client)).code).toBe(1001);
    await sleep(100);
    expect(moved.client.closed).toBeUndefined();
    expect(await echoOf(moved.client, 'new address')).toBe('new address');
    expect(c.closes).toEqual([]);
  });

  it('pool settings: idle_timeout turned on closes idle WebSockets, a lower max_message_size holds for new ones', async () => {
    const a = await greeter('a');
    const running = await harness.proxy(wsPool(a.address));
    const idle = await through(running);
    const tighter = `${wsPool(a.address)}\nidle_timeout=400ms\nmax_message_size=1KiB`;
    expect(await reloadIni(running, tighter)).toBe('websocket: max_message_size, idle_timeout');
    expect((await closeOf(idle.client, 3000)).code).toBe(1000);
    const fresh = await through(running);
    fresh.client.ws.send('x'.repeat(2048));
    expect((await closeOf(fresh.client)).code).toBe(1009);
  });
});
