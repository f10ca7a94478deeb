import { createHash, X509Certificate } from 'node:crypto';
import {
  connect,
  createServer,
  type AddressInfo,
  type Server as TcpServer,
  type Socket,
} from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { startBackend, type BackendHandler, type TestBackend } from '../helpers/backend';
import { browserSuite, launchChromium } from '../helpers/chromium';
import { eventsOf, iniWith, startProxy, type RunningProxy } from '../helpers/proxy';
import { useTestCertificates } from '../helpers/testCertificates';
import { waitUntil } from '../helpers/waitUntil';
import { startWsBackend, type TestWsBackend } from '../helpers/wsBackend';

const SETUP_TIMEOUT_MS = 20_000;
const TEST_TIMEOUT_MS = 15_000;
const IN_PAGE_TIMEOUT_MS = 5_000;

/** The page, its script, image and JSON, as the HTTP backend serves them. */
const SITE: Readonly<Record<string, { readonly type: string; readonly body: string }>> = {
  '/': {
    type: 'text/html; charset=utf-8',
    body:
      '<!doctype html><html><head><title>over h2</title><script src="/app.js"></script></head>' +
      '<body><img id="pixel" src="/pixel.svg" alt=""></body></html>',
  },
  '/app.js': { type: 'text/javascript', body: 'globalThis.scriptRan = "yes";\n' },
  '/pixel.svg': {
    type: 'image/svg+xml',
    body: '<svg xmlns="http://www.w3.org/2000/svg" width="3" height="2"><rect width="3" height="2"/></svg>',
  },
  '/data.json': { type: 'application/json', body: '{"fetched":true}' },
};

const serveSite: BackendHandler = (req, res) => {
  req.resume();
  const file = SITE[req.url ?? ''];
  if (!file) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, {
    'content-type': file.type,
    'content-length': Buffer.byteLength(file.body),
    'cache-control': 'no-store',
  });
  res.end(file.body);
};

/**
 * A TCP relay in front of the proxy that counts the connections the browser makes: one for the
 * page, its sub-resources and the WebSocket means the WebSocket rode the HTTP/2 connection.
 */
interface ConnectionCounter {
  readonly port: number;
  readonly accepted: () => number;
  close(): Promise<void>;
}

async function countConnections(targetPort: number): Promise<ConnectionCounter> {
  let accepted = 0;
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const server: TcpServer = createServer((client) => {
    accepted++;
    const upstream = connect(targetPort, '127.0.0.1');
    track(client);
    track(upstream);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    accepted: () => accepted,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** base64 SHA-256 of the certificate's public key, as --ignore-certificate-errors-spki-list takes it. */
function spkiHash(certPem: string): string {
  const spki = new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}

/** Runs in the page: what the navigation and each resource went over. */
function protocolsInPage(): { navigation: string; resources: Record<string, string> } {
  const { performance } = globalThis as unknown as {
    performance: {
      getEntriesByType(type: string): { name: string; nextHopProtocol: string }[];
    };
  };
  const resources: Record<string, string> = {};
  for (const entry of performance.getEntriesByType('resource')) {
    resources[new URL(entry.name).pathname] = entry.nextHopProtocol;
  }
  return {
    navigation: performance.getEntriesByType('navigation')[0]?.nextHopProtocol ?? '',
    resources,
  };
}

/** The part of the browser's WebSocket this test uses; the page runs it, not Node. */
interface PageWebSocket {
  binaryType: string;
  onopen: (() => void) | null;
  onmessage: ((event: { readonly data: unknown }) => void) | null;
  onerror: (() => void) | null;
  onclose: ((event: { readonly code: number; readonly reason: string }) => void) | null;
  send(data: string | ArrayBuffer): void;
  close(code: number, reason: string): void;
}
type PageWebSocketConstructor = new (url: string) => PageWebSocket;

interface EchoSession {
  readonly url: string;
  readonly text: string;
  readonly bytes: readonly number[];
  readonly closeCode: number;
  readonly closeReason: string;
  readonly timeoutMs: number;
}

interface EchoResult {
  readonly text: unknown;
  /** The binary echo's bytes, or the type of what came instead. */
  readonly bytes: readonly number[] | string;
  readonly closed: { readonly code: number; readonly reason: string };
}

/**
 * Runs in the page: opens a WebSocket, sends a text and a binary message, waits for both echoes,
 * then closes with the given code and waits for the close handshake to finish.
 */
function echoSessionInPage(session: EchoSession): Promise<EchoResult> {
  const { WebSocket } = globalThis as unknown as { WebSocket: PageWebSocketConstructor };
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(session.url);
    socket.binaryType = 'arraybuffer';
    const echoes: unknown[] = [];
    const timer = setTimeout(() => {
      socket.close(1000, 'timeout');
      reject(new Error(`no echoes within ${session.timeoutMs} ms (got ${echoes.length})`));
    }, session.timeoutMs);
    socket.onopen = () => {
      socket.send(session.text);
      socket.send(new Uint8Array(session.bytes).buffer);
    };
    socket.onmessage = (event) => {
      echoes.push(event.data);
      if (echoes.length === 2) socket.close(session.closeCode, session.closeReason);
    };
    socket.onerror = () => {
      clearTimeout(timer);
      reject(new Error('WebSocket error'));
    };
    socket.onclose = (event) => {
      clearTimeout(timer);
      const binary = echoes[1];
      resolve({
        text: echoes[0],
        bytes: binary instanceof ArrayBuffer ? Array.from(new Uint8Array(binary)) : typeof binary,
        closed: { code: event.code, reason: event.reason },
      });
    };
  });
}

/**
 * The status of each WebSocket handshake as DevTools reports it: 101 for an HTTP/1.1 upgrade,
 * 200 for an extended CONNECT over HTTP/2 (RFC 8441). The request headers it reports read as
 * HTTP/1.1 ones either way, so they tell nothing.
 */
async function recordHandshakes(page: Page): Promise<number[]> {
  const cdp = await page.context().newCDPSession(page);
  const statuses: number[] = [];
  cdp.on('Network.webSocketHandshakeResponseReceived', (event) => {
    statuses.push(event.response.status);
  });
  await cdp.send('Network.enable');
  return statuses;
}

interface PageImage {
  readonly complete: boolean;
  readonly naturalWidth: number;
}

/** Runs in the page: whether the image has loaded, 3 pixels wide as served. */
function imageLoadedInPage(): boolean {
  const { document } = globalThis as unknown as {
    document: { getElementById(id: string): PageImage | null };
  };
  const pixel = document.getElementById('pixel');
  return pixel?.complete === true && pixel.naturalWidth === 3;
}

/** Runs in the page: what the script set, and the JSON fetched from the same origin. */
async function scriptAndFetchInPage(): Promise<{ script: unknown; fetched: unknown }> {
  const scope = globalThis as unknown as {
    scriptRan?: string;
    fetch(url: string): Promise<{ json(): Promise<unknown> }>;
  };
  const answer = await scope.fetch('/data.json');
  return { script: scope.scriptRan, fetched: await answer.json() };
}

const echoSession = (url: string): EchoSession => ({
  url,
  text: 'hello over h2',
  bytes: [0, 1, 2, 127, 128, 253, 254, 255],
  closeCode: 4001,
  closeReason: 'done here',
  timeoutMs: IN_PAGE_TIMEOUT_MS,
});

const ECHOED: EchoResult = {
  text: 'hello over h2',
  bytes: [0, 1, 2, 127, 128, 253, 254, 255],
  closed: { code: 4001, reason: 'done here' },
};

browserSuite('Chromium over HTTP/2 through the TLS front door', () => {
  const certs = useTestCertificates();
  let site: TestBackend | undefined;
  let echoServer: TestWsBackend | undefined;
  let running: RunningProxy | undefined;
  let counter: ConnectionCounter | undefined;
  let browser: Browser | undefined;

  const started = () => {
    if (!site || !echoServer || !running || !counter || !browser) throw new Error('setup failed');
    return { site, echoServer, running, counter, browser };
  };

  beforeAll(async () => {
    const door = certs.issue('door', ['localhost', '127.0.0.1']);
    site = await startBackend('site', serveSite);
    echoServer = await startWsBackend('echo');
    running = await startProxy(
      iniWith(
        `[http]\nserver1=${site.address}\n[websocket]\nserver1=${echoServer.address}\n`,
        `tls_cert=${door.certFile}\ntls_key=${door.keyFile}\n`,
      ),
    );
    counter = await countConnections(running.address.port);
    // The certificate counts as valid (unlike with ignoreHTTPSErrors), so nothing about the
    // connection differs from one to a publicly trusted site.
    browser = await launchChromium([
      `--ignore-certificate-errors-spki-list=${spkiHash(door.cert)}`,
    ]);
  }, SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await browser?.close();
    await counter?.close();
    await running?.stop();
    await echoServer?.close();
    await site?.close();
  });

  it(
    'loads a page and its script, image and fetch over one h2 connection, and runs a wss:// ' +
      'WebSocket on it (RFC 8441) that closes cleanly with its code',
    async () => {
      const { echoServer, running, counter, browser } = started();
      const before = counter.accepted();
      const context = await browser.newContext();
      try {
        const page = await context.newPage();
        const handshakes = await recordHandshakes(page);
        const origin = `https://localhost:${counter.port}`;
        const response = await page.goto(`${origin}/`);
        expect(response?.status()).toBe(200);
        expect(await response?.securityDetails()).toMatchObject({ protocol: 'TLS 1.3' });
        await page.waitForFunction(imageLoadedInPage, undefined, { timeout: IN_PAGE_TIMEOUT_MS });
        expect(await page.evaluate(scriptAndFetchInPage)).toEqual({
          script: 'yes',
          fetched: { fetched: true },
        });
        const protocols = await page.evaluate(protocolsInPage);
        expect(protocols.navigation).toBe('h2');
        expect(protocols.resources).toMatchObject({
          '/app.js': 'h2',
          '/pixel.svg': 'h2',
          '/data.json': 'h2',
        });
        expect(counter.accepted() - before).toBe(1);

        const result = await page.evaluate(
          echoSessionInPage,
          echoSession(`wss://localhost:${counter.port}/chat`),
        );

        // Chromium (no switch turns this on or off) opens a WebSocket over an HTTP/2 connection
        // it already has to the origin when the server announced SETTINGS_ENABLE_CONNECT_PROTOCOL;
        // otherwise it opens a connection of its own, offering only http/1.1. Here: the same
        // connection, and DevTools saw a 200, not a 101.
        expect(counter.accepted() - before).toBe(1);
        expect(handshakes).toEqual([200]);
        expect(result).toEqual(ECHOED);
        await waitUntil(() => echoServer.closes.length > 0, 'the backend sees the close');
        expect(echoServer.closes).toEqual([
          expect.objectContaining({ code: 4001, reason: 'done here' }),
        ]);
        expect(echoServer.upgrades.at(-1)).toMatchObject({
          url: '/chat',
          headers: expect.objectContaining({ 'x-forwarded-proto': 'https' }) as unknown,
        });
        expect(eventsOf(running, 'websocket-close').at(-1)).toMatchObject({
          closedBy: 'client',
          code: 4001,
          reason: 'done here',
          clientToBackend: { messages: 2 },
          backendToClient: { messages: 2 },
        });
      } finally {
        await context.close();
      }
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'opens a wss:// WebSocket over HTTP/1.1 on the same front door from a page of another ' +
      'origin, with no HTTP/2 connection to reuse',
    async () => {
      const { site, echoServer, counter, browser } = started();
      echoServer.closes.length = 0;
      const before = counter.accepted();
      const context = await browser.newContext();
      try {
        const page = await context.newPage();
        const handshakes = await recordHandshakes(page);
        // The backend itself, over plain HTTP: the proxy's origin is never loaded.
        expect((await page.goto(`http://127.0.0.1:${site.port}/`))?.status()).toBe(200);

        const result = await page.evaluate(
          echoSessionInPage,
          echoSession(`wss://localhost:${counter.port}/chat`),
        );

        expect(result).toEqual(ECHOED);
        expect(handshakes).toEqual([101]);
        expect(counter.accepted() - before).toBe(1);
        await waitUntil(() => echoServer.closes.length > 0, 'the backend sees the close');
        expect(echoServer.closes).toEqual([
          expect.objectContaining({ code: 4001, reason: 'done here' }),
        ]);
      } finally {
        await context.close();
      }
    },
    TEST_TIMEOUT_MS,
  );
});
