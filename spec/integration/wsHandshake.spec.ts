import { WebSocket } from 'ws';
import { useHarness } from '../helpers/harness';
import { eventsOf, type RunningProxy } from '../helpers/proxy';
import {
  clientFrame,
  frameFrom,
  rawHandshake,
  startRawWsBackend,
  type RawPeer,
} from '../helpers/rawWebSocket';
import { waitUntil } from '../helpers/waitUntil';
import { startWsBackend, type TestWsBackend, type WsBackendOptions } from '../helpers/wsBackend';

const TEXT = 0x1;

/** The value of `name` in an HTTP response head, if it is there. */
function headerIn(head: string, name: string): string | undefined {
  const line = head.split('\r\n').find((l) => l.toLowerCase().startsWith(`${name}:`));
  return line?.slice(name.length + 1).trim();
}

/** How a `ws` client's handshake ended: its subprotocol once open, or the error it raised. */
function handshakeOutcome(url: string, protocols: string[]): Promise<string> {
  const ws = new WebSocket(url, protocols);
  return new Promise<string>((resolve) => {
    ws.once('open', () => {
      resolve(`open with "${ws.protocol}"`);
      ws.close();
    });
    ws.once('error', (error) => resolve(error.message));
  });
}

describe('WebSocket handshake', () => {
  const harness = useHarness();

  async function wsBackend(name: string, options?: WsBackendOptions): Promise<TestWsBackend> {
    const started = await startWsBackend(name, options);
    harness.onCleanup(() => started.close());
    return started;
  }

  const offering = (running: RunningProxy, path: string): Promise<RawPeer> =>
    rawHandshake(running.address.port, harness.onCleanup, {
      path,
      headers: ['Sec-WebSocket-Protocol: v1, v2'],
    });

  it('passes through a 101 that chooses none of the offered subprotocols, then relays frames', async () => {
    const target = await wsBackend('indifferent', { handleProtocols: () => false });
    const running = await harness.proxy(`[websocket]\nserver1=${target.address}\n`);
    const raw = await offering(running, '/none');

    expect(raw.head).toMatch(/^HTTP\/1\.1 101 /);
    expect(headerIn(raw.head, 'sec-websocket-protocol')).toBeUndefined();
    expect(target.upgrades[0]?.protocols).toEqual(['v1', 'v2']);
    raw.socket.write(clientFrame(TEXT, Buffer.from('no subprotocol')));
    const echoed = await frameFrom(raw, TEXT);
    expect(echoed).toEqual({ opcode: TEXT, payload: Buffer.from('no subprotocol'), masked: false });
    expect(eventsOf(running, 'websocket-open')).toEqual([
      {
        type: 'websocket-open',
        pool: 'websocket',
        backend: 'server1',
        url: '/none',
        subprotocol: '',
      },
    ]);
  });

  it('gives a ws client that offered subprotocols the answer a direct connection gives', async () => {
    const target = await wsBackend('indifferent', { handleProtocols: () => false });
    const running = await harness.proxy(`[websocket]\nserver1=${target.address}\n`);

    const direct = await handshakeOutcome(`ws://${target.address}/direct`, ['v1']);
    const proxied = await handshakeOutcome(`ws://127.0.0.1:${running.address.port}/via`, ['v1']);
    expect(direct).toBe('Server sent no subprotocol');
    expect(proxied).toBe(direct);
    expect(await handshakeOutcome(`ws://127.0.0.1:${running.address.port}/plain`, [])).toBe(
      'open with ""',
    );
  });

  it('ejects no backend after 12 handshakes whose subprotocol offer both backends decline', async () => {
    const first = await wsBackend('first', { handleProtocols: () => false });
    const second = await wsBackend('second', { handleProtocols: () => false });
    const running = await harness.proxy(
      `[websocket]\nalgorithm=round-robin\n` +
        `server1=${first.address}\nserver2=${second.address}\n`,
    );
    for (let i = 0; i < 12; i++) {
      const raw = await offering(running, `/declined/${i}`);
      expect(raw.head).toMatch(/^HTTP\/1\.1 101 /);
      raw.socket.destroy();
    }
    const healthy = await offering(running, '/after');
    expect(healthy.head).toMatch(/^HTTP\/1\.1 101 /);

    expect(eventsOf(running, 'health').filter((event) => !event.healthy)).toEqual([]);
    expect(first.upgrades.length).toBeGreaterThanOrEqual(6);
    expect(second.upgrades.length).toBeGreaterThanOrEqual(6);
    expect(first.upgrades.length + second.upgrades.length).toBe(13);
  });

  it('answers 502 when the backend chooses a subprotocol the client did not offer', async () => {
    const wilful = await startRawWsBackend('v3');
    harness.onCleanup(() => wilful.close());
    const running = await harness.proxy(`[websocket]\nserver1=${wilful.address}\n`);

    const offered = await offering(running, '/offered');
    expect(offered.head).toMatch(/^HTTP\/1\.1 502 /);
    const none = await rawHandshake(running.address.port, harness.onCleanup, { path: '/none' });
    expect(none.head).toMatch(/^HTTP\/1\.1 502 /);
    expect(wilful.peers.map((peer) => headerIn(peer.head, 'sec-websocket-protocol'))).toEqual([
      'v1, v2',
      undefined,
    ]);
    expect(eventsOf(running, 'websocket-open')).toEqual([]);
  });

  it('closes the backend connection when the client handshake the backend accepted is refused', async () => {
    const target = await wsBackend('echo');
    const running = await harness.proxy(`[websocket]\nserver1=${target.address}\n`);
    const refused = await rawHandshake(running.address.port, harness.onCleanup, {
      path: '/bad-key',
      key: 'not a key',
    });

    expect(refused.head).toMatch(/^HTTP\/1\.1 400 /);
    expect(target.upgrades).toHaveLength(1);
    await waitUntil(() => target.closes.length === 1, 'the backend connection closes', 2000);
    expect(target.open.size).toBe(0);
    expect(eventsOf(running, 'websocket-open')).toEqual([]);
  });
});
