import { WebSocket } from 'ws';
import { useHarness } from '../helpers/harness';
import { eventsOf } from '../helpers/proxy';
import {
  CLOSE,
  clientFrame,
  closePayload,
  frameFrom,
  rawHandshake,
  startRawWsBackend,
  type RawPeer,
} from '../helpers/rawWebSocket';
import { sleep, waitUntil } from '../helpers/waitUntil';
import { startWsBackend } from '../helpers/wsBackend';

/** Far below the 30 s `ws` waits for the peer's FIN, far above a loopback round trip. */
const PROMPTLY_MS = 2000;

/** A frame sent by a backend: unmasked. */
function backendFrame(opcode: number, payload: Buffer): Buffer {
  return clientFrame(opcode, payload, { masked: false });
}

/**
 * Waits until the proxy has ended its half of `peer`'s connection and then let go of the socket:
 * a byte written after that is refused (a reset) instead of being read and ignored.
 */
async function released(peer: RawPeer): Promise<void> {
  await waitUntil(() => peer.endedAt() !== undefined, 'the proxy ends the connection', 1500);
  expect(peer.socket.destroyed).toBe(false);
  await waitUntil(
    () => {
      if (!peer.socket.destroyed) peer.socket.write(Buffer.from([0]));
      return peer.socket.destroyed;
    },
    'the proxy lets go of the connection',
    1500,
  );
}

describe('WebSocket close handshake with a peer that keeps its TCP side open', () => {
  const harness = useHarness();

  it("relays a client's close to the backend at once and ends the client's connection", async () => {
    const target = await startWsBackend('echo');
    harness.onCleanup(() => target.close());
    const running = await harness.proxy(`[websocket]\nserver1=${target.address}\n`);
    const raw = await rawHandshake(running.address.port, harness.onCleanup, { path: '/lingers' });
    expect(raw.head).toMatch(/^HTTP\/1\.1 101 /);
    await waitUntil(() => target.open.size === 1, 'the backend accepts');

    raw.socket.write(clientFrame(CLOSE, closePayload(4001, 'bye')));

    await waitUntil(() => target.closes.length === 1, 'the backend sees the close', PROMPTLY_MS);
    expect(target.closes[0]).toMatchObject({ code: 4001, reason: 'bye' });
    const answer = await frameFrom(raw, CLOSE, PROMPTLY_MS);
    expect(answer.payload).toEqual(closePayload(4001, 'bye'));
    await released(raw);

    expect(eventsOf(running, 'websocket-close')).toEqual([
      expect.objectContaining({ closedBy: 'client', code: 4001, reason: 'bye' }),
    ]);
  });

  it("passes the backend's answer on to a client that ended its half after its close frame", async () => {
    const backend = await startRawWsBackend();
    harness.onCleanup(() => backend.close());
    const running = await harness.proxy(`[websocket]\nserver1=${backend.address}\n`);
    const raw = await rawHandshake(running.address.port, harness.onCleanup, { path: '/half' });
    expect(raw.head).toMatch(/^HTTP\/1\.1 101 /);
    const [peer] = backend.peers;
    if (!peer) throw new Error('the backend saw no handshake');

    // As a browser does over HTTP/2: its close frame, then the end of its stream at once.
    raw.socket.end(clientFrame(CLOSE, closePayload(4003, 'leaving')));
    const relayed = await frameFrom(peer, CLOSE, PROMPTLY_MS);
    expect(relayed.payload).toEqual(closePayload(4003, 'leaving'));
    await sleep(100);
    expect(raw.endedAt()).toBeUndefined();
    peer.socket.write(backendFrame(CLOSE, closePayload(4003, 'leaving')));

    const answer = await frameFrom(raw, CLOSE, PROMPTLY_MS);
    expect(answer.payload).toEqual(closePayload(4003, 'leaving'));
    await waitUntil(
      () => raw.endedAt() !== undefined,
      'the proxy ends the connection',
      PROMPTLY_MS,
    );
    await waitUntil(() => eventsOf(running, 'websocket-close').length === 1, 'the close event');
    expect(eventsOf(running, 'websocket-close')).toEqual([
      expect.objectContaining({ closedBy: 'client', code: 4003, reason: 'leaving' }),
    ]);
  });

  it("relays a backend's close to the client at once and ends the backend's connection", async () => {
    const backend = await startRawWsBackend();
    harness.onCleanup(() => backend.close());
    const running = await harness.proxy(`[websocket]\nserver1=${backend.address}\n`);
    const client = new WebSocket(`ws://127.0.0.1:${running.address.port}/lingers`);
    harness.onCleanup(() => client.terminate());
    let closed: { code: number; reason: string } | undefined;
    client.on('error', () => undefined);
    client.once('close', (code, reason) => {
      closed = { code, reason: reason.toString() };
    });
    await new Promise((resolve) => client.once('open', resolve));
    const [peer] = backend.peers;
    if (!peer) throw new Error('the backend saw no handshake');

    peer.socket.write(backendFrame(CLOSE, closePayload(4002, 'done')));

    await waitUntil(() => closed !== undefined, 'the client sees the close', PROMPTLY_MS);
    expect(closed).toEqual({ code: 4002, reason: 'done' });
    const answer = await frameFrom(peer, CLOSE, PROMPTLY_MS);
    expect(answer).toMatchObject({ payload: closePayload(4002, 'done'), masked: true });
    await released(peer);

    await waitUntil(() => eventsOf(running, 'websocket-close').length === 1, 'the close event');
    expect(eventsOf(running, 'websocket-close')).toEqual([
      expect.objectContaining({ closedBy: 'backend', code: 4002, reason: 'done' }),
    ]);
  });
});
