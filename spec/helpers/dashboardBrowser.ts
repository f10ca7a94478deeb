import type { Browser, BrowserContext, Page } from 'playwright-core';

/** A page of the dashboard and the errors it raised (uncaught, or refused by the CSP). */
export interface DashboardTab {
  readonly context: BrowserContext;
  readonly page: Page;
  readonly errors: string[];
}

export interface TabOptions {
  readonly width?: number;
  readonly height?: number;
  /** Installs Playwright's fake clock at this time before the page loads. */
  readonly clockAt?: number;
}

export async function openTab(browser: Browser, options: TabOptions = {}): Promise<DashboardTab> {
  const context = await browser.newContext({
    viewport: { width: options.width ?? 1280, height: options.height ?? 800 },
    timezoneId: 'UTC',
    locale: 'en-GB',
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error' && /Refused to|Content Security Policy/i.test(message.text())) {
      errors.push(message.text());
    }
  });
  if (options.clockAt !== undefined) await page.clock.install({ time: options.clockAt });
  return { context, page, errors };
}

const serverSelector = (key: string) => `[data-server="${key}"]`;

/** Waits until the card of server `pool/name` shows `state` (up, warn or down). */
export async function waitForServer(
  page: Page,
  key: string,
  state: 'up' | 'warn' | 'down',
  timeout: number,
): Promise<void> {
  await page.waitForSelector(`${serverSelector(key)}[data-state="${state}"]`, { timeout });
}

/**
 * What a server's card says: its badge, the badge's colour and why it is out. (Expressions as
 * text: the specs compile without the DOM's types.)
 */
export function serverCard(
  page: Page,
  key: string,
): Promise<{ badge: string; colour: string; why: string }> {
  return page.evaluate(`(() => {
    const card = document.querySelector(${JSON.stringify(serverSelector(key))});
    const badge = card.querySelector('.badge');
    return {
      badge: badge.textContent,
      colour: getComputedStyle(badge).color,
      why: card.querySelector('.why')?.textContent ?? '',
    };
  })()`);
}

/** How many `/status` documents the page has applied. */
export const updatesSeen = (page: Page): Promise<number> =>
  page.evaluate<number>('Number(document.body.dataset.updates ?? 0)');

/**
 * Polls `expression` in the page from Node until it is true. (page.waitForFunction would compile
 * it inside the page, which the dashboard's CSP forbids; and Node's timers ignore the fake clock.)
 */
export async function waitInPage(page: Page, expression: string, withinMs = 5000): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!(await page.evaluate<boolean>(expression))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting in the page until ${expression}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Waits until the page has applied more than `seen` `/status` documents. */
export const waitForUpdate = (page: Page, seen: number, withinMs?: number): Promise<void> =>
  waitInPage(page, `Number(document.body.dataset.updates ?? 0) > ${seen}`, withinMs);

/** With the fake clock: lets one poll interval pass and waits until the page applied /status. */
export async function nextPoll(page: Page): Promise<void> {
  const before = await updatesSeen(page);
  await page.clock.runFor(1000);
  await waitForUpdate(page, before);
}

/** Whether the document is wider than the viewport (a horizontal scroll bar). */
export const scrollsSideways = (page: Page): Promise<boolean> =>
  page.evaluate<boolean>(
    'document.documentElement.scrollWidth > document.documentElement.clientWidth',
  );
