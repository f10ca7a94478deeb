import { createHash, randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { WebSocket, type ClientOptions, type RawData } from 'ws';
import { unusedPort } from '../helpers/backend';
import { startBlackhole } from '../helpers/blackhole';
import { useHarness } from '../helpers/harness';
import { eventsOf, type RunningProxy } from '../helpers/proxy';
import {
  CLOSE,
  SAMPLE_ACCEPT,
  clientFrame,
  frameFrom,
  rawHandshake,
  type RawHandshakeOptions,
} from '../helpers/rawWebSocket';
import { sleep, waitUntil } from '../helpers/waitUntil';
import {
  echo,
  startWsBackend,
  startWsBackendProcess,
  type TestWsBackend,
  type WsBackendOptions,
} from '../helpers/wsBackend';

const MiB = 1024 * 1024;
interface Received {
  readonly data: Buffer;
  readonly isBinary: boolean;
}

interface Closed {
  readonly code: number;
  readonly reason: string;
  readonly at: number;
}

/** A `ws` client with everything it saw recorded. */
interface TestClient {
  readonly ws: WebSocket;
  readonly received: Received[];
  readonly errors: Error[];
  openedAt: number | undefined;
  /** The 101 response's headers. */
  upgradeHeaders: IncomingHttpHeaders | undefined;
  closed: Closed | undefined;
}

interface PlainResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

function wsUrl(running: RunningProxy, path = '/'): string {
  return `ws://127.0.0.1:${running.address.port}${path}`;
}

/** Alternating messages: even ones text (with non-ASCII), odd ones binary (invalid as UTF-8). */
function mixedMessage(index: number): Received {
  if (index % 2 === 0) return { data: Buffer.from(`text ${index} ünïcode`), isBinary: false };
  const data = Buffer.alloc(8);
  data.writeUInt32BE(index, 0);
  data.set([0xff, 0xfe, 0x00, index & 0xff], 4);
  return { data, isBinary: true };
}

describe('WebSocket proxying', () => {
  const harness = useHarness();

  async function wsBackend(name: string, options?: WsBackendOptions): Promise<TestWsBackend> {
    const started = await startWsBackend(name, options);
    harness.onCleanup(() => started.close());
    return started;
  }

  function client(url: string, protocols: string[] = [], options: ClientOptions = {}): TestClient {
    const ws = new WebSocket(url, protocols, options);
    const state: TestClient = {
      ws,
      received: [],
      errors: [],
      openedAt: undefined,
      upgradeHeaders: undefined,
      closed: undefined,
    };
    ws.on('message', (data: RawData, isBinary: boolean) => {
      state.received.push({ data: toBuffer(data), isBinary });
    });
    ws.on('error', (error) => state.errors.push(error));
    ws.once('upgrade', (response) => {
      state.upgradeHeaders = response.headers;
    });
    ws.once('open', () => {
      state.openedAt = Date.now();
    });
    ws.once('close', (code, reason) => {
      state.closed = { code, reason: reason.toString(), at: Date.now() };
    });
    harness.onCleanup(() => {
      if (ws.readyState !== WebSocket.CLOSED) ws.terminate();
    });
    return state;
  }

  async function opened(state: TestClient, withinMs = 5000): Promise<TestClient> {
    await waitUntil(
      () => state.openedAt !== undefined || state.closed !== undefined,
      'the handshake ends',
      withinMs,
    );
    if (state.openedAt === undefined) {
      const errors = state.errors.map((error) => error.message).join('; ');
      throw new Error(`the WebSocket did not open: ${errors}`);
    }
    return state;
  }

  const connected = (url: string, protocols: string[] = [], options: ClientOptions = {}) =>
    opened(client(url, protocols, options));

  async function closeOf(state: TestClient, withinMs = 5000): Promise<Closed> {
    await waitUntil(() => state.closed !== undefined, 'the WebSocket closes', withinMs);
    if (!state.closed) throw new Error('unreachable');
    return state.closed;
  }

  /** Sends one text message and resolves with the next message received. */
  async function roundTrip(state: TestClient, text: string, withinMs = 5000): Promise<string> {
    const before = state.received.length;
    state.ws.send(text);
    await waitUntil(() => state.received.length > before, `the echo of "${text}"`, withinMs);
    return state.received[before]?.data.toString() ?? '';
  }

  /** A handshake expected to be refused: the plain HTTP response it got instead of a 101. */
  function refusedHandshake(url: string, withinMs = 5000): Promise<PlainResponse> {
    const ws = new WebSocket(url);
    ws.on('error', () => undefined);
    harness.onCleanup(() => {
      if (ws.readyState !== WebSocket.CLOSED) ws.terminate();
    });
    return new Promise<PlainResponse>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no answer to the handshake')), withinMs);
      const fail = (error: Error) => {
        clearTimeout(timer);
        reject(error);
      };
      ws.once('open', () => fail(new Error('the handshake succeeded')));
      ws.once('error', fail);
      ws.once('unexpected-response', (_request, response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', fail);
        response.on('end', () => {
          clearTimeout(timer);
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks).toString(),
          });
        });
      });
    });
  }

  const handshake = (port: number, options?: RawHandshakeOptions) =>
    rawHandshake(port, harness.onCleanup, options);

  it('echoes 10 000 alternating text and binary messages in order with their types, and a 10 MiB binary message intact', async () => {
    const target = await wsBackend('echo');
    const running = await harness.proxy(`[websocket]\nserver1=${target.address}\n`);
    const echoing = await connected(wsUrl(running, '/echo'));

    const count = 10_000;
    for (let i = 0; i < count; i++) {
      const message = mixedMessage(i);
      echoing.ws.send(message.data, { binary: message.isBinary });
    }
    await waitUntil(() => echoing.received.length >= count, `${count} echoes`, 20_000);
    expect(echoing.received).toHaveLength(count);
    const wrong: string[] = [];
    echoing.received.forEach((got, index) => {
      const want = mixedMessage(index);
      if (got.isBinary !== want.isBinary || !got.data.equals(want.data)) {
        wrong.push(`#${index}: binary ${got.isBinary}, ${got.data.toString('hex')}`);
      }
    });
    expect(wrong.slice(0, 5)).toEqual([]);

    const big = randomBytes(10 * MiB);
    echoing.received.length = 0;
    echoing.ws.send(big, { binary: true });
    await waitUntil(() => echoing.received.length >= 1, 'the 10 MiB echo', 20_000);
    const [bigEcho] = echoing.received;
    expect(bigEcho?.isBinary).toBe(true);
    expect(bigEcho?.data.length).toBe(10 * MiB);
    expect(sha256(bigEcho?.data ?? Buffer.alloc(0))).toBe(sha256(big));
    expect(echoing.closed).toBeUndefined();
  });

  it('forwards the path, query string, subprotocols and end-to-end headers, and returns the chosen subprotocol', async () => {
    const target = await wsBackend('chat', {
      handleProtocols: (protocols) => (protocols.includes('v2') ? 'v2' : false),
    });
    const running = await harness.proxy(`[websocket]\nserver1=${target.address}\n`);
    const path = '/chat?room=7&x=%20y';
    const chat = await connected(wsUrl(running, path), ['v1', 'v2'], {
      headers: {
        Origin: 'https://app.example',
        Cookie: 'session=abc123; theme=dark',
        Authorization: 'Bearer secret-token',
      },
    });

    expect(chat.ws.protocol).toBe('v2');
    expect(target.upgrades).toHaveLength(1);
    const [upgrade] = target.upgrades;
    expect(upgrade?.url).toBe(path);
    expect(upgrade?.protocols).toEqual(['v1', 'v2']);
    expect(upgrade?.headers.origin).toBe('https://app.example');
    expect(upgrade?.headers.cookie).toBe('session=abc123; theme=dark');
    expect(upgrade?.headers.authorization).toBe('Bearer secret-token');
    expect(upgrade?.headers['x-forwarded-for']).toBe('127.0.0.1');
    await waitUntil(() => eventsOf(running, 'websocket-open').length === 1, 'the open event');
    expect(eventsOf(running, 'websocket-open')).toEqual([
      {
        type: 'websocket-open',
        pool: 'websocket',
        backend: 'server1',
        url: path,
        subprotocol: 'v2',
      },
    ]);
    expect(await roundTrip(chat, 'hello')).toBe('hello');
  });

  it('recognises "Connection: keep-alive, Upgrade" as a WebSocket handshake', async () => {
    const target = await wsBackend('echo');
    const running = await harness.proxy(`[websocket]\nserver1=${target.address}\n`);
    const raw = await handshake(running.address.port, { connection: 'keep-alive, Upgrade' });

    expect(raw.head).toMatch(/^HTTP\/1\.1 101 /);
    expect(raw.head.toLowerCase()).toContain(
      `sec-websocket-accept: ${SAMPLE_ACCEPT.toLowerCase()}`,
    );
    expect(target.upgrades).toHaveLength(1);
    raw.socket.write(clientFrame(0x1, Buffer.from('by hand')));
    const frame = await frameFrom(raw, 0x1);
    expect(frame).toEqual({ opcode: 0x1, payload: Buffer.from('by hand'), masked: false });
  });

  it('relays close codes and reasons both ways and records who closed', async () => {
    const target = await wsBackend('closer', {
      onConnection: (socket) =>
        socket.on('message', (data) => {
          if (toBuffer(data).toString() === 'close please') socket.close(4001, 'bye');
        }),
    });
    const running = await harness.proxy(`[websocket]\nserver1=${target.address}\n`);

    const first = await connected(wsUrl(running, '/first'));
    first.ws.send('close please');
    const closedByBackend = await closeOf(first);
    expect({ code: closedByBackend.code, reason: closedByBackend.reason }).toEqual({
      code: 4001,
      reason: 'bye',
    });
    await waitUntil(() => eventsOf(running, 'websocket-close').length === 1, 'the first close');
    await waitUntil(() => target.open.size === 0, 'the first backend socket closes');
    const closesBefore = target.closes.length;

    const second = await connected(wsUrl(running, '/second'));
    second.ws.close(4001, 'bye');
    await waitUntil(() => target.closes.length > closesBefore, 'the backend sees the close');
    expect(target.closes[closesBefore]).toMatchObject({ code: 4001, reason: 'bye' });
    await waitUntil(() => eventsOf(running, 'websocket-close').length === 2, 'the second close');

    expect(eventsOf(running, 'websocket-close')).toEqual([
      expect.objectContaining({
        backend: 'server1',
        closedBy: 'backend',
        code: 4001,
        reason: 'bye',
      }),
      expect.objectContaining({
        backend: 'server1',
        closedBy: 'client',
        code: 4001,
        reason: 'bye',
      }),
    ]);
    expect(eventsOf(running, 'websocket-close')[0]?.clientToBackend).toEqual({
      messages: 1,
      bytes: 'close please'.length,
    });
  });

  it("passes a backend's plain 401 answer to the upgrade through with its headers and body", async () => {
    const target = await wsBackend('guarded', {
      reject: {
        status: 401,
        statusText: 'Unauthorized',
        headers: [
          ['www-authenticate', 'Bearer realm="rxproxy-test"'],
          ['content-type', 'text/plain'],
        ],
        body: 'token required\n',
      },
    });
    const running = await harness.proxy(`[websocket]\nserver1=${target.address}\n`);
    const answer = await refusedHandshake(wsUrl(running, '/private'));

    expect(answer.status).toBe(401);
    expect(answer.headers['www-authenticate']).toBe('Bearer realm="rxproxy-test"');
    expect(answer.headers['content-type']).toBe('text/plain');
    expect(answer.body).toBe('token required\n');
    expect(target.upgrades).toHaveLength(1);
    expect(eventsOf(running, 'websocket-open')).toEqual([]);
  });

  it('skips an unreachable backend: 10 connections in a row all succeed with round-robin', async () => {
    const live = await wsBackend('live');
    const running = await harness.proxy(
      `[websocket]\nalgorithm=round-robin\nserver1=127.0.0.1:${await unusedPort()}\n` +
        `server2=${live.address}\n`,
    );
    for (let i = 0; i < 10; i++) {
      const attempt = await connected(wsUrl(running, `/try/${i}`));
      expect(await roundTrip(attempt, `message ${i}`)).toBe(`message ${i}`);
      attempt.ws.close(1000);
      await closeOf(attempt);
    }
    expect(live.upgrades).toHaveLength(10);
  });

  it('answers 502 JSON when no backend can be reached', async () => {
    const running = await harness.proxy(
      `[websocket]\nalgorithm=round-robin\nserver1=127.0.0.1:${await unusedPort()}\n` +
        `server2=127.0.0.1:${await unusedPort()}\n`,
    );
    const answer = await refusedHandshake(wsUrl(running, '/nowhere'));
    expect(answer.status).toBe(502);
    expect(answer.headers['content-type']).toBe('application/json');
    expect(JSON.parse(answer.body)).toEqual({ error: 'bad gateway' });
  });

  it('answers 504 when the only backend does not accept within handshake_timeout', async () => {
    const blackhole = await startBlackhole();
    harness.onCleanup(() => blackhole.close());
    // A live [http] pool: HTTP workers warming up against the blackhole would delay start-up.
    const http = await harness.backend('http');
    const running = await harness.proxy(
      `[http]\nserver1=${http.address}\n` +
        `[websocket]\nhandshake_timeout=300ms\nserver1=127.0.0.1:${blackhole.port}\n`,
    );
    const startedAt = Date.now();
    const answer = await refusedHandshake(wsUrl(running, '/slow'));
    const elapsed = Date.now() - startedAt;
    expect(answer.status).toBe(504);
    expect(JSON.parse(answer.body)).toEqual({ error: 'gateway timeout' });
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(2000);
  });

  it('answers 503 "no healthy backend" to an upgrade once health checks took every backend out', async () => {
    const sick = await wsBackend('sick', {
      onRequest: (req, res) => {
        req.resume();
        req.on('end', () => {
          const health = req.url === '/healthCheck';
          res.writeHead(health ? 503 : 200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ status: health ? 503 : 200 }));
        });
      },
    });
    const running = await harness.proxy(
      `[websocket]\nenable_health_check=true\nhealth_check_interval=100ms\n` +
        `server1=${sick.address}\n`,
    );
    await waitUntil(
      () => eventsOf(running, 'health').some((event) => !event.healthy),
      'the backend leaves rotation',
    );
    const answer = await refusedHandshake(wsUrl(running, '/ws'));
    expect(answer.status).toBe(503);
    expect(JSON.parse(answer.body)).toEqual({ error: 'no healthy backend' });
    expect(sick.upgrades).toHaveLength(0);
  });

  it('closes every WebSocket of a killed backend with 1011 within 1 s and sends new ones elsewhere', async () => {
    const child = await startWsBackendProcess('child');
    harness.onCleanup(() => child.kill());
    const local = await wsBackend('local', {
      onConnection: (socket) => {
        socket.send('local');
        echo(socket);
      },
    });
    const running = await harness.proxy(
      `[websocket]\nalgorithm=round-robin\nserver1=${child.address}\nserver2=${local.address}\n`,
    );
    const clients = Array.from({ length: 100 }, (_, i) => client(wsUrl(running, `/c/${i}`)));
    await waitUntil(
      () => clients.every((c) => c.received.length >= 1 || c.closed !== undefined),
      'every client is greeted by its backend',
      15_000,
    );
    expect(clients.filter((c) => c.closed !== undefined)).toHaveLength(0);
    const greeting = (c: TestClient) => c.received[0]?.data.toString();
    const onChild = clients.filter((c) => greeting(c) === 'child');
    const onLocal = clients.filter((c) => greeting(c) === 'local');
    expect(onChild.length + onLocal.length).toBe(100);
    expect(onChild.length).toBeGreaterThanOrEqual(40);
    expect(onChild.length).toBeLessThanOrEqual(60);

    const killedAt = Date.now();
    child.child.kill('SIGKILL');
    await waitUntil(
      () => onChild.every((c) => c.closed !== undefined),
      'every client of the killed backend is closed',
      5000,
    );
    const codes = new Set(onChild.map((c) => c.closed?.code));
    expect([...codes]).toEqual([1011]);
    const slowest = Math.max(...onChild.map((c) => (c.closed?.at ?? Infinity) - killedAt));
    expect(slowest).toBeLessThanOrEqual(1000);

    expect(onLocal.filter((c) => c.closed !== undefined)).toHaveLength(0);
    const survivor = onLocal[0];
    if (survivor) expect(await roundTrip(survivor, 'still here')).toBe('still here');

    for (let i = 0; i < 10; i++) {
      const fresh = await connected(wsUrl(running, `/after/${i}`));
      await waitUntil(() => fresh.received.length >= 1, 'the greeting');
      expect(greeting(fresh)).toBe('local');
      fresh.ws.close(1000);
    }
  });

  it('closes a connection whose message exceeds max_message_size with 1009', async () => {
    const target = await wsBackend('echo');
    const running = await harness.proxy(
      `[websocket]\nmax_message_size=1KiB\nserver1=${target.address}\n`,
    );
    const sender = await connected(wsUrl(running, '/big'));
    const small = 'a'.repeat(1000);
    expect(await roundTrip(sender, small)).toBe(small);
    sender.ws.send(Buffer.alloc(2048, 0x62), { binary: true });
    const closed = await closeOf(sender, 3000);
    expect(closed.code).toBe(1009);
    expect(sender.received).toHaveLength(1);
  });

  it('closes a silent connection with 1000 after idle_timeout but keeps a busy one open', async () => {
    const target = await wsBackend('echo');
    const running = await harness.proxy(
      `[websocket]\nidle_timeout=300ms\nserver1=${target.address}\n`,
    );
    const silent = await connected(wsUrl(running, '/silent'));
    const busy = await connected(wsUrl(running, '/busy'));
    let sent = 0;
    for (; sent < 12 && busy.closed === undefined; sent++) {
      busy.ws.send(`tick ${sent}`);
      await sleep(100);
    }
    const silentClose = await closeOf(silent, 3000);
    expect(silentClose.code).toBe(1000);
    const idleFor = silentClose.at - (silent.openedAt ?? 0);
    expect(idleFor).toBeGreaterThanOrEqual(250);
    expect(idleFor).toBeLessThanOrEqual(1000);
    expect(busy.closed).toBeUndefined();
    expect(busy.received.length).toBeGreaterThanOrEqual(sent - 1);

    const quietFrom = Date.now();
    const busyClose = await closeOf(busy, 3000);
    expect(busyClose.code).toBe(1000);
    expect(busyClose.at - quietFrom).toBeLessThanOrEqual(1000);
  });

  it('drops a backend that stops answering pings and closes its client with 1011; one that answers stays', async () => {
    const mute = await wsBackend('mute', { autoPong: false });
    const answering = await wsBackend('answering');
    const muteProxy = await harness.proxy(
      `[websocket]\nping_interval=200ms\nserver1=${mute.address}\n`,
    );
    const answeringProxy = await harness.proxy(
      `[websocket]\nping_interval=200ms\nserver1=${answering.address}\n`,
    );
    const abandoned = await connected(wsUrl(muteProxy, '/mute'));
    const kept = await connected(wsUrl(answeringProxy, '/kept'));

    const closed = await closeOf(abandoned, 3000);
    expect(closed.code).toBe(1011);
    expect(closed.at - (abandoned.openedAt ?? 0)).toBeLessThanOrEqual(1000);
    await waitUntil(() => mute.open.size === 0, 'the mute backend socket is dropped', 1000);

    await sleep(Math.max(0, 1000 - (Date.now() - (kept.openedAt ?? 0))));
    expect(kept.closed).toBeUndefined();
    expect(await roundTrip(kept, 'alive')).toBe('alive');
  });

  it('closes open WebSockets with 1001 "going away" when the proxy stops', async () => {
    const target = await wsBackend('echo');
    const running = await harness.proxy(`[websocket]\nserver1=${target.address}\n`);
    const open = await connected(wsUrl(running, '/stay'));
    expect(await roundTrip(open, 'before')).toBe('before');

    const stopping = running.stop();
    const closed = await closeOf(open, 3000);
    expect({ code: closed.code, reason: closed.reason }).toEqual({
      code: 1001,
      reason: 'going away',
    });
    await stopping;
    await waitUntil(() => target.open.size === 0, 'the backend socket closes', 2000);
    expect(target.closes[0]?.code).toBe(1001);
  });

  it('closes a connection that sends a malformed frame with 1002 and leaves other sessions alone', async () => {
    const target = await wsBackend('echo');
    const running = await harness.proxy(`[websocket]\nserver1=${target.address}\n`);
    const bystander = await connected(wsUrl(running, '/bystander'));

    const reserved = await handshake(running.address.port);
    expect(reserved.head).toMatch(/^HTTP\/1\.1 101 /);
    reserved.socket.write(clientFrame(0x1, Buffer.from('rsv1'), { rsv: 0x4 }));
    const reservedClose = await frameFrom(reserved, CLOSE);
    expect(reservedClose.opcode).toBe(0x8);
    expect(reservedClose.payload.readUInt16BE(0)).toBe(1002);

    const unmasked = await handshake(running.address.port);
    expect(unmasked.head).toMatch(/^HTTP\/1\.1 101 /);
    unmasked.socket.write(clientFrame(0x1, Buffer.from('no mask'), { masked: false }));
    const unmaskedClose = await frameFrom(unmasked, CLOSE);
    expect(unmaskedClose.opcode).toBe(0x8);
    expect(unmaskedClose.payload.readUInt16BE(0)).toBe(1002);

    expect(bystander.closed).toBeUndefined();
    expect(await roundTrip(bystander, 'unaffected')).toBe('unaffected');
    const later = await connected(wsUrl(running, '/later'));
    expect(await roundTrip(later, 'new session')).toBe('new session');
  });

  it('negotiates permessage-deflate only with compression=true', async () => {
    const plainTarget = await wsBackend('plain', { perMessageDeflate: true });
    const deflateTarget = await wsBackend('deflate', { perMessageDeflate: true });
    const plain = await harness.proxy(`[websocket]\nserver1=${plainTarget.address}\n`);
    const deflating = await harness.proxy(
      `[websocket]\ncompression=true\nserver1=${deflateTarget.address}\n`,
    );
    const text = 'compressible '.repeat(5000);

    const offPlain = await connected(wsUrl(plain, '/plain'), [], { perMessageDeflate: true });
    expect(offPlain.upgradeHeaders).toBeDefined();
    expect(offPlain.upgradeHeaders?.['sec-websocket-extensions']).toBeUndefined();
    expect(plainTarget.upgrades[0]?.headers['sec-websocket-extensions']).toBeUndefined();
    expect(await roundTrip(offPlain, text)).toBe(text);

    const onDeflate = await connected(wsUrl(deflating, '/deflate'), [], {
      perMessageDeflate: true,
    });
    expect(onDeflate.upgradeHeaders?.['sec-websocket-extensions']).toMatch(/^permessage-deflate/);
    expect(deflateTarget.upgrades[0]?.headers['sec-websocket-extensions']).toMatch(
      /permessage-deflate/,
    );
    expect(await roundTrip(onDeflate, text)).toBe(text);
  });
});
