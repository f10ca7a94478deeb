import { useHarness } from '../helpers/harness';
import { sleep } from '../helpers/waitUntil';
import {
  chatClient,
  exchange,
  settled,
  startSocketIoServer,
  summary,
  type ChatAck,
  type ChatClient,
  type SocketIoServer,
} from '../helpers/socketIo';

const CLIENTS = 50;
const MESSAGES = 100;
const FEW_MESSAGES = 10;
const CONNECT_WITHIN_MS = 15_000;
// With the default workers (3 a server, 10 queued) each client holds a worker with its poll
// until its upgrade completes (socket.io releases that poll within 100 ms), so 50 clients at
// once fill both servers. A new client that finds both full waits in the pool's line and goes
// to whichever server frees first, not to the algorithm's pick: under load one burst split
// 17/33. The first case spreads arrivals over 2 s so the split measures round-robin; the second
// keeps the burst, where pinned requests must wait for their server rather than spill.
const ARRIVAL_GAP_MS = 40;
// socket.io reconnects after 0.5-1.5 s (its defaults); 3 s leaves room for one handshake and
// no room for a failed attempt, so a client sent to the dead server first would miss it.
const RECONNECT_WITHIN_MS = 3000;
const RECONNECT_WAIT_MS = 10_000;
const TEST_TIMEOUT_MS = 90_000;

const pool = (section: string, ...lines: string[]) => `[${section}]\n${lines.join('\n')}\n`;
const servers = (a: SocketIoServer, b: SocketIoServer) => [
  `server1=${a.address}`,
  `server2=${b.address}`,
];

/** The one server that acknowledged all of `acks`, or a text that says they were mixed. */
const serverOf = (acks: readonly ChatAck[]): string =>
  [...new Set(acks.map((ack) => ack.server))].join(' and ') || 'none';

const fulfilled = <T>(results: PromiseSettledResult<T>[]): T[] =>
  results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));

describe('sticky cookie with socket.io 4: two server processes, 50 clients with default transports', () => {
  const harness = useHarness();

  async function twoServers(): Promise<[SocketIoServer, SocketIoServer]> {
    const [a, b] = await Promise.all([startSocketIoServer('a'), startSocketIoServer('b')]);
    harness.onCleanup(() => a.kill());
    harness.onCleanup(() => b.kill());
    return [a, b];
  }

  /**
   * 50 clients started `gapMs` apart, all connected and upgraded to WebSocket with no connect
   * error on the way.
   */
  async function connectAll(url: string, gapMs: number): Promise<ChatClient[]> {
    const clients: ChatClient[] = [];
    harness.onCleanup(() => clients.forEach((client) => client.close()));
    for (let i = 0; i < CLIENTS; i++) {
      clients.push(chatClient(url));
      if (gapMs > 0) await sleep(gapMs);
    }
    await settled(() => clients.every((client) => client.upgrades.length > 0), CONNECT_WITHIN_MS);
    expect(summary(clients)).toEqual({ connected: CLIENTS, upgraded: CLIENTS, connectErrors: {} });
    return clients;
  }

  /** `count` acknowledged messages from every client; each client's acks, in client order. */
  async function chatAll(clients: ChatClient[], count: number, tag: string): Promise<ChatAck[][]> {
    const results = await Promise.allSettled(
      clients.map((client, i) => exchange(client, count, `${tag} ${i}`)),
    );
    const acks = fulfilled(results);
    expect(acks.flat()).toHaveLength(clients.length * count);
    expect(new Set(acks.flat().map((ack) => ack.transport))).toEqual(new Set(['websocket']));
    return acks;
  }

  it(
    '[http] round-robin with sticky=cookie: all connect, upgrade and chat; a killed server moves its clients to the other within 3 s',
    async () => {
      const [a, b] = await twoServers();
      const running = await harness.proxy(
        pool('http', 'algorithm=round-robin', 'sticky=cookie', ...servers(a, b)),
      );
      const clients = await connectAll(running.url, ARRIVAL_GAP_MS);

      const acks = await chatAll(clients, MESSAGES, 'before');
      const on = acks.map(serverOf);
      // Every message of a client reached the server that holds its session.
      expect(on.filter((server) => server !== 'a' && server !== 'b')).toEqual([]);
      const onA = clients.filter((_, i) => on[i] === 'a');
      const onB = clients.filter((_, i) => on[i] === 'b');
      expect(onA.length).toBeGreaterThanOrEqual(CLIENTS * 0.35);
      expect(onB.length).toBeGreaterThanOrEqual(CLIENTS * 0.35);

      const killedAt = Date.now();
      await a.kill();
      await settled(
        () => onA.every((client) => client.connects.length > 1 && client.upgrades.length > 1),
        RECONNECT_WAIT_MS,
      );
      expect(summary(onA)).toMatchObject({ connected: onA.length, upgraded: onA.length });
      expect(onA.map((client) => client.connects.length)).toEqual(onA.map(() => 2));
      const reconnectMs = onA.map((client) => (client.connects[1] ?? Infinity) - killedAt);
      expect(reconnectMs.filter((ms) => ms > RECONNECT_WITHIN_MS)).toEqual([]);
      // The clients of the server that stayed never noticed.
      expect(onB.flatMap((client) => client.disconnects)).toEqual([]);

      const after = await chatAll(clients, FEW_MESSAGES, 'after');
      expect(new Set(after.map(serverOf))).toEqual(new Set(['b']));
    },
    TEST_TIMEOUT_MS,
  );

  it(
    '[http] and [websocket] with the same servers, both sticky=cookie: every client upgrades on the server of its session',
    async () => {
      const [a, b] = await twoServers();
      // [websocket] keeps its default algorithm (random): the shared cookie, not the
      // algorithm, chooses the server of an upgrade.
      const running = await harness.proxy(
        pool('http', 'algorithm=round-robin', 'sticky=cookie', ...servers(a, b)) +
          pool('websocket', 'sticky=cookie', ...servers(a, b)),
      );
      const clients = await connectAll(running.url, 0);

      const acks = await chatAll(clients, FEW_MESSAGES, 'upgraded');
      const on = acks.map(serverOf);
      expect(on.filter((server) => server !== 'a' && server !== 'b')).toEqual([]);
      expect(new Set(on)).toEqual(new Set(['a', 'b']));
    },
    TEST_TIMEOUT_MS,
  );
});
