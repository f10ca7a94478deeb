import { constants, inflateRawSync } from 'node:zlib';
import { WebSocket } from 'ws';
import { useHarness } from '../helpers/harness';
import { spawnProxyInTempFolder } from '../helpers/process';
import { eventsOf, type RunningProxy } from '../helpers/proxy';
import {
  CLOSE,
  clientFrame,
  closePayload,
  frameFrom,
  framesIn,
  rawHandshake,
  startRawWsBackend,
  type RawHandshakeOptions,
  type RawPeer,
  type RawWsBackend,
  type RawWsBackendOptions,
} from '../helpers/rawWebSocket';
import { sleep, waitUntil } from '../helpers/waitUntil';
import { frame, frameHeader, OP } from '../helpers/wsFrames';
import { startWsBackend, type TestWsBackend, type WsBackendOptions } from '../helpers/wsBackend';
import { echoOf, openRecording } from '../helpers/wsClient';

const KEY = Buffer.from([1, 2, 3, 4]);
/** An unmasked frame, as a backend sends it. */
const serverFrame = (opcode: number, payload: Buffer) =>
  clientFrame(opcode, payload, { masked: false });
const codeOf = (close: { payload: Buffer }) => close.payload.readUInt16BE(0);

describe('WebSocket tunnel', () => {
  const harness = useHarness();

  async function wsBackend(options?: WsBackendOptions): Promise<TestWsBackend> {
    const started = await startWsBackend('tunnel', options);
    harness.onCleanup(() => started.close());
    return started;
  }

  async function rawBackend(options?: RawWsBackendOptions): Promise<RawWsBackend> {
    const started = await startRawWsBackend(undefined, options);
    harness.onCleanup(() => started.close());
    return started;
  }

  const rawClient = (running: RunningProxy, options?: RawHandshakeOptions) =>
    rawHandshake(running.address.port, harness.onCleanup, options);

  /** A raw client and the raw backend connection the proxy opened for it. */
  async function rawPair(
    running: RunningProxy,
    backend: RawWsBackend,
    options?: RawHandshakeOptions,
  ) {
    const client = await rawClient(running, options);
    expect(client.head).toMatch(/^HTTP\/1\.1 101 /);
    await waitUntil(() => backend.peers.length > 0, 'the backend accepts');
    return { client, peer: backend.peers.at(-1) as RawPeer };
  }

  const closeEvent = async (running: RunningProxy) => {
    await waitUntil(() => eventsOf(running, 'websocket-close').length === 1, 'the close event');
    return eventsOf(running, 'websocket-close')[0];
  };

  it('refuses a 100 MB frame from its header alone: 1009 to the client, 1001 to the backend, nothing relayed', async () => {
    const received: Buffer[] = [];
    const target = await wsBackend({
      onConnection: (ws) => ws.on('message', (data: Buffer) => received.push(data)),
    });
    const running = await harness.proxy(`[websocket]\nserver1=${target.address}\n`);
    const client = await rawClient(running);
    await waitUntil(() => target.open.size === 1, 'the backend accepts');

    // Only 10 of the 100 MB follow the header: a close can only come from the header.
    client.socket.write(
      Buffer.concat([frameHeader(OP.binary, 100_000_000, { key: KEY }), Buffer.alloc(10)]),
    );
    const close = await frameFrom(client, CLOSE, 2000);
    expect(codeOf(close)).toBe(1009);
    await waitUntil(() => target.closes.length === 1, 'the backend closes');
    expect(target.closes[0]).toMatchObject({ code: 1001, reason: 'going away' });
    expect(received).toEqual([]);
    expect(await closeEvent(running)).toMatchObject({
      closedBy: 'client',
      code: 1009,
      error: 'message too big',
      clientToBackend: { messages: 0, bytes: 0 },
    });
  });

  it('closes with 1002 an unmasked client frame (1001 to the backend) and a masked backend frame (1001 to the client)', async () => {
    const backend = await rawBackend();
    const running = await harness.proxy(`[websocket]\nserver1=${backend.address}\n`);

    const first = await rawPair(running, backend);
    first.client.socket.write(clientFrame(OP.text, Buffer.from('bare'), { masked: false }));
    expect(codeOf(await frameFrom(first.client, CLOSE))).toBe(1002);
    const toBackend = await frameFrom(first.peer, CLOSE);
    expect({ code: codeOf(toBackend), masked: toBackend.masked }).toEqual({
      code: 1001,
      masked: true,
    });
    first.peer.socket.write(serverFrame(CLOSE, closePayload(1001, '')));
    expect(framesIn(first.peer.after()).map((f) => f.opcode)).toEqual([CLOSE]);

    const second = await rawPair(running, backend);
    second.peer.socket.write(clientFrame(OP.text, Buffer.from('masked')));
    const toSender = await frameFrom(second.peer, CLOSE);
    expect({ code: codeOf(toSender), masked: toSender.masked }).toEqual({
      code: 1002,
      masked: true,
    });
    const toClient = await frameFrom(second.client, CLOSE);
    expect({ code: codeOf(toClient), masked: toClient.masked }).toEqual({
      code: 1001,
      masked: false,
    });
    second.client.socket.write(clientFrame(CLOSE, closePayload(1001, '')));

    await waitUntil(() => eventsOf(running, 'websocket-close').length === 2, 'both close events');
    expect(eventsOf(running, 'websocket-close').map((e) => [e.closedBy, e.code, e.error])).toEqual([
      ['client', 1002, 'protocol violation'],
      ['backend', 1002, 'protocol violation'],
    ]);
  });

  it('passes permessage-deflate end to end: the backend gets the client`s compressed frames, messages arrive intact', async () => {
    const backend = await rawBackend({ extensions: 'permessage-deflate' });
    const running = await harness.proxy(
      `[websocket]\ncompression=true\nserver1=${backend.address}\n`,
    );
    const ws = new WebSocket(`ws://127.0.0.1:${running.address.port}/deflate`, {
      perMessageDeflate: true,
    });
    harness.onCleanup(() => ws.terminate());
    const answer = new Promise<string | undefined>((resolve) =>
      ws.once('upgrade', (response) => resolve(response.headers['sec-websocket-extensions'])),
    );
    const echoed = new Promise<string>((resolve) =>
      ws.once('message', (data: Buffer) => resolve(data.toString())),
    );
    await new Promise((resolve) => ws.once('open', resolve));
    expect(await answer).toBe('permessage-deflate');
    const [peer] = backend.peers;
    if (!peer) throw new Error('the backend saw no handshake');
    expect(peer.head).toMatch(/^sec-websocket-extensions: permessage-deflate/im);

    const text = 'compressible '.repeat(5000);
    ws.send(text);
    await waitUntil(() => framesIn(peer.after()).length === 1, 'the compressed frame');
    const first = peer.after()[0] ?? 0;
    expect(first & 0x40).toBe(0x40);
    const [compressed] = framesIn(peer.after());
    const payload = compressed?.payload ?? Buffer.alloc(0);
    expect(payload.length).toBeLessThan(text.length / 10);
    const inflated = inflateRawSync(Buffer.concat([payload, Buffer.from([0, 0, 0xff, 0xff])]), {
      finishFlush: constants.Z_SYNC_FLUSH,
    });
    expect(inflated.toString()).toBe(text);

    // The backend sends the compressed payload back as it is: the client inflates it.
    peer.socket.write(frame(OP.text, payload, { rsv: 0x40 }));
    expect(await echoed).toBe(text);
    ws.close(1000);
    peer.socket.write(serverFrame(CLOSE, closePayload(1000, '')));
    expect(await closeEvent(running)).toMatchObject({
      clientToBackend: { messages: 1, bytes: payload.length },
      backendToClient: { messages: 1, bytes: payload.length },
    });
  });

  it('relays what arrives with either handshake: a frame after the request and one after the 101', async () => {
    const backend = await rawBackend({ after: serverFrame(OP.text, Buffer.from('early backend')) });
    const running = await harness.proxy(`[websocket]\nserver1=${backend.address}\n`);
    const { client, peer } = await rawPair(running, backend, {
      after: clientFrame(OP.text, Buffer.from('early client')),
    });
    expect((await frameFrom(client, OP.text)).payload.toString()).toBe('early backend');
    expect((await frameFrom(peer, OP.text)).payload.toString()).toBe('early client');
    client.socket.write(clientFrame(CLOSE, closePayload(1000, '')));
    await frameFrom(peer, CLOSE);
    peer.socket.write(serverFrame(CLOSE, closePayload(1000, '')));
    expect(await closeEvent(running)).toMatchObject({ closedBy: 'client', code: 1000 });
  });

  it('records the close code, reason, side and counts of a close from either side; a close without status passes as it is', async () => {
    const target = await wsBackend({
      onConnection: (ws) =>
        ws.on('message', (data: Buffer, isBinary) => {
          if (data.toString() === 'bye') ws.close(4002, 'done');
          else ws.send(data, { binary: isBinary });
        }),
    });
    const running = await harness.proxy(`[websocket]\nserver1=${target.address}\n`);
    const url = `ws://127.0.0.1:${running.address.port}/`;

    const byClient = await openRecording(url, harness.onCleanup);
    for (const text of ['a', 'bb', 'ccc']) byClient.ws.send(text);
    await waitUntil(() => byClient.messages.length === 3, 'three echoes');
    byClient.ws.close(4003, 'see you');
    const byBackend = await openRecording(url, harness.onCleanup);
    byBackend.ws.send('bye');
    await waitUntil(() => byBackend.closed !== undefined, 'the backend closes');
    const noStatus = await openRecording(url, harness.onCleanup);
    noStatus.ws.close();
    await waitUntil(() => eventsOf(running, 'websocket-close').length === 3, 'three close events');

    expect(byBackend.closed?.code).toBe(4002);
    expect(target.closes.map((c) => c.code).sort()).toEqual([1005, 4002, 4003]);
    const events = eventsOf(running, 'websocket-close');
    const summary = events.map(({ closedBy, code, reason, clientToBackend, backendToClient }) => ({
      closedBy,
      code,
      reason,
      clientToBackend,
      backendToClient,
    }));
    expect(summary).toEqual(
      expect.arrayContaining([
        {
          closedBy: 'client',
          code: 4003,
          reason: 'see you',
          clientToBackend: { messages: 3, bytes: 6 },
          backendToClient: { messages: 3, bytes: 6 },
        },
        {
          closedBy: 'backend',
          code: 4002,
          reason: 'done',
          clientToBackend: { messages: 1, bytes: 3 },
          backendToClient: { messages: 0, bytes: 0 },
        },
        {
          closedBy: 'client',
          code: 1005,
          reason: '',
          clientToBackend: { messages: 0, bytes: 0 },
          backendToClient: { messages: 0, bytes: 0 },
        },
      ]),
    );
  });

  it('pings both peers (masked toward the backend), counts any byte as an answer, and drops the silent one', async () => {
    const backend = await rawBackend();
    const running = await harness.proxy(
      `[websocket]\nping_interval=200ms\nserver1=${backend.address}\n`,
    );
    const { client, peer } = await rawPair(running, backend);
    const openedAt = Date.now();
    // The client answers nothing but sends a pong of its own every 100 ms; the backend is silent.
    const pongs = setInterval(
      () => client.socket.write(clientFrame(OP.pong, Buffer.alloc(0))),
      100,
    );
    harness.onCleanup(() => clearInterval(pongs));

    const ping = await frameFrom(client, OP.ping, 1000);
    expect(ping).toEqual({ opcode: OP.ping, payload: Buffer.alloc(0), masked: false });
    expect(await frameFrom(peer, OP.ping, 1000)).toMatchObject({ opcode: OP.ping, masked: true });
    expect(await frameFrom(peer, OP.pong, 1000)).toMatchObject({ opcode: OP.pong, masked: true });
    const close = await frameFrom(client, CLOSE, 2000);
    expect(codeOf(close)).toBe(1011);
    expect(Date.now() - openedAt).toBeLessThan(1500);
    client.socket.write(clientFrame(CLOSE, closePayload(1011, '')));
    await waitUntil(
      () => peer.socket.destroyed || peer.endedAt() !== undefined,
      'the backend is dropped',
    );
    expect(await closeEvent(running)).toMatchObject({ closedBy: 'backend', code: 1006 });
  });

  it('gives a client 1011 when its backend dies between frames, and drops it without a close frame mid-frame', async () => {
    const backend = await rawBackend();
    const running = await harness.proxy(`[websocket]\nserver1=${backend.address}\n`);

    const whole = await rawPair(running, backend);
    whole.peer.socket.write(serverFrame(OP.text, Buffer.from('last words')));
    await frameFrom(whole.client, OP.text);
    whole.peer.socket.destroy();
    expect(codeOf(await frameFrom(whole.client, CLOSE))).toBe(1011);

    const cut = await rawPair(running, backend);
    const partial = frame(OP.binary, Buffer.alloc(100, 7)).subarray(0, 12);
    cut.peer.socket.write(partial);
    await waitUntil(
      () => cut.client.after().length === partial.length,
      'the first bytes of the frame',
    );
    cut.peer.socket.destroy();
    await waitUntil(
      () => cut.client.endedAt() !== undefined || cut.client.socket.destroyed,
      'the client is dropped',
    );
    await sleep(50);
    expect(cut.client.after()).toEqual(partial);
  });

  it('relays through the stream API where Node would throw on its deprecated stream binding', async () => {
    const backend = await wsBackend();
    const { cli, port } = await spawnProxyInTempFolder(
      harness.onCleanup,
      `[websocket]\nserver1=${backend.address}\n`,
      { NODE_OPTIONS: '--pending-deprecation --throw-deprecation' },
    );
    const client = await openRecording(`ws://127.0.0.1:${port}/`, harness.onCleanup);
    const big = 'x'.repeat(300_000);
    expect(await echoOf(client, 'one')).toBe('one');
    expect(await echoOf(client, big)).toBe(big);
    expect(cli.child.exitCode).toBeNull();
  });
});
