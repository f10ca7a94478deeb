import type { Browser } from 'playwright-core';
import { unusedPort } from '../helpers/backend';
import { browserSuite, launchChromium } from '../helpers/chromium';
import { runCli, type CliProcess } from '../helpers/process';

const SUITE_TIMEOUT_MS = 60_000;
const ECHO_TIMEOUT_MS = 10_000;

/** The part of the browser's WebSocket this test uses; the page runs it, not Node. */
interface PageWebSocket {
  readonly protocol: string;
  onopen: (() => void) | null;
  onmessage: ((event: { readonly data: unknown }) => void) | null;
  onerror: (() => void) | null;
  onclose: ((event: { readonly code: number }) => void) | null;
  send(data: string): void;
  close(): void;
}
type PageWebSocketConstructor = new (url: string, protocols: string[]) => PageWebSocket;

interface EchoRequest {
  readonly url: string;
  readonly protocols: string[];
  readonly text: string;
  readonly timeoutMs: number;
}

/** Runs in the page: opens a WebSocket, sends one text message and waits for its echo. */
function echoInPage({
  url,
  protocols,
  text,
  timeoutMs,
}: EchoRequest): Promise<{ protocol: string; echo: unknown }> {
  const { WebSocket } = globalThis as unknown as { WebSocket: PageWebSocketConstructor };
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, protocols);
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error(`no echo within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.onopen = () => socket.send(text);
    socket.onmessage = (event) => {
      clearTimeout(timer);
      resolve({ protocol: socket.protocol, echo: event.data });
      socket.close();
    };
    socket.onerror = () => {
      clearTimeout(timer);
      reject(new Error('WebSocket error'));
    };
    socket.onclose = (event) => {
      clearTimeout(timer);
      reject(new Error(`WebSocket closed with ${event.code} before the echo`));
    };
  });
}

browserSuite('a real browser through the demo proxy', () => {
  let demo: CliProcess | undefined;
  let browser: Browser | undefined;

  afterEach(async () => {
    await browser?.close();
    browser = undefined;
    if (demo) {
      demo.child.kill('SIGTERM');
      await demo.exited();
      demo = undefined;
    }
  });

  it(
    'Chromium opens a WebSocket with subprotocols and gets its message echoed',
    async () => {
      const port = await unusedPort();
      demo = runCli(['--demo'], { PORT: String(port) });
      await demo.waitFor('Press Ctrl+C to stop.');

      browser = await launchChromium();
      const page = await browser.newPage();
      // The demo answers JSON; any page of it serves as the origin.
      const response = await page.goto(`http://127.0.0.1:${port}/`);
      expect(response?.status()).toBe(200);

      const text = 'hello from the browser';
      const result = await page.evaluate(echoInPage, {
        url: `ws://127.0.0.1:${port}/echo`,
        protocols: ['chat.v1', 'chat.v2'],
        text,
        timeoutMs: ECHO_TIMEOUT_MS,
      });

      // The demo backend selects the first subprotocol offered; the proxy passes its choice on.
      expect(result).toEqual({ protocol: 'chat.v1', echo: text });
    },
    SUITE_TIMEOUT_MS,
  );
});
