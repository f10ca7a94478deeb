import { browserSuite, launchChromium } from '../helpers/chromium';
import { useHarness } from '../helpers/harness';
import { startSocketIoServer } from '../helpers/socketIo';

const SUITE_TIMEOUT_MS = 60_000;
const CHAT_TIMEOUT_MS = 10_000;
const MESSAGES = 5;

/** The part of the page's socket.io client (`window.chatSocket`) this test uses. */
interface PageSocket {
  readonly connected: boolean;
  readonly io: { readonly engine: { readonly transport: { readonly name: string } } };
  timeout(ms: number): { emitWithAck(event: string, text: string): Promise<unknown> };
}

interface ChatRequest {
  readonly count: number;
  readonly timeoutMs: number;
}

/**
 * Runs in the page: waits until the page's socket is connected and upgraded to WebSocket, then
 * sends `count` chat messages one after the other and returns their acknowledgements.
 */
async function chatInPage({ count, timeoutMs }: ChatRequest): Promise<{
  acks: unknown[];
  cookieVisible: boolean;
}> {
  const page = globalThis as unknown as { chatSocket: PageSocket; document: { cookie: string } };
  const socket = page.chatSocket;
  const deadline = Date.now() + timeoutMs;
  while (!socket.connected || socket.io.engine.transport.name !== 'websocket') {
    if (Date.now() > deadline) throw new Error('the socket did not connect and upgrade');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const acks: unknown[] = [];
  for (let i = 0; i < count; i++) {
    acks.push(await socket.timeout(timeoutMs).emitWithAck('chat', `hello ${i}`));
  }
  return { acks, cookieVisible: page.document.cookie.includes('rxproxy_server') };
}

browserSuite('sticky cookie with socket.io 4 in a real browser', () => {
  const harness = useHarness();

  it(
    'Chromium loads the chat page through the proxy, upgrades on the server that served it and chats',
    async () => {
      const [a, b] = await Promise.all([startSocketIoServer('a'), startSocketIoServer('b')]);
      harness.onCleanup(() => a.kill());
      harness.onCleanup(() => b.kill());
      const running = await harness.proxy(
        `[http]\nalgorithm=round-robin\nsticky=cookie\nserver1=${a.address}\nserver2=${b.address}\n`,
      );

      const browser = await launchChromium();
      // Closed first: the proxy and the servers stop after the page's connections are gone.
      harness.onCleanup(() => browser.close());
      const page = await browser.newPage();
      const response = await page.goto(`${running.url}/`);
      expect(response?.status()).toBe(200);
      const pageServer = response?.headers()['x-server-name'];
      expect(['a', 'b']).toContain(pageServer);

      const result = await page.evaluate(chatInPage, {
        count: MESSAGES,
        timeoutMs: CHAT_TIMEOUT_MS,
      });
      // The page's cookie pinned the socket.io session, polling and upgrade, to the page's server.
      expect(result.acks).toEqual(
        Array.from({ length: MESSAGES }, (_, i) => ({
          server: pageServer,
          transport: 'websocket',
          text: `hello ${i}`,
        })),
      );
      // HttpOnly: the page's scripts cannot read the proxy's cookie.
      expect(result.cookieVisible).toBe(false);

      // A second load of the page keeps the cookie and so its server.
      const again = await page.reload();
      expect(again?.headers()['x-server-name']).toBe(pageServer);
    },
    SUITE_TIMEOUT_MS,
  );
});
