import { useHarness } from '../helpers/harness';
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

  /** 50 clients, all connected and upgraded to WebSocket with no connect error on the way. */
  async function connectAll(url: string): Promise<ChatClient[]> {
    const clients = Array.from({ length: CLIENTS }, () => chatClient(url));
    harness.onCleanup(() => clients.forEach((client) => client.close()));
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
      const clients = await connectAll(running.url);

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
      const clients = await connectAll(running.url);

      const acks = await chatAll(clients, FEW_MESSAGES, 'upgraded');
      const on = acks.map(serverOf);
      expect(on.filter((server) => server !== 'a' && server !== 'b')).toEqual([]);
      expect(on.filter((server) => server === 'a').length).toBeGreaterThanOrEqual(CLIENTS * 0.35);
      expect(on.filter((server) => server === 'b').length).toBeGreaterThanOrEqual(CLIENTS * 0.35);
    },
    TEST_TIMEOUT_MS,
  );
});
