import { mkdtempSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { DASHBOARD_HTML } from '../../src/adapters/dashboardPage';
import { browserSuite, launchChromium } from '../helpers/chromium';
import {
  nextPoll,
  openTab,
  scrollsSideways,
  serverCard,
  waitForServer,
  updatesSeen,
  waitForUpdate,
  waitInPage,
  type DashboardTab,
} from '../helpers/dashboardBrowser';
import { unusedPort } from '../helpers/backend';
import { FakeAdmin } from '../helpers/fakeAdmin';
import { FakeStatus } from '../helpers/fakeStatus';
import { useHarness } from '../helpers/harness';
import { logLines, spawnProxy } from '../helpers/process';
import { send } from '../helpers/proxy';
import { waitUntil } from '../helpers/waitUntil';

/** The time the dashboard has to show a server the proxy took out. */
const DOWN_WITHIN_MS = 2000;
const WAIT_MS = 10_000;
const RED = 'rgb(164, 14, 38)';
/** UPDATE_SCREENSHOTS=1 writes the wide screenshot to docs/dashboard.png. */
const DOCS_SCREENSHOT = join(__dirname, '..', '..', 'docs', 'dashboard.png');

const traffic = () => ({
  server1: { requestsPerSecond: 48, errorRate: 0.002, medianSeconds: 0.012 },
  server2: { requestsPerSecond: 41, errorRate: 0.01, medianSeconds: 0.018 },
  server3: { requestsPerSecond: 35, errorRate: 0.2, medianSeconds: 0.06 },
});

browserSuite('the dashboard in a real browser', () => {
  let browser: Browser;
  let admin: FakeAdmin | undefined;
  let tabs: DashboardTab[] = [];

  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });
  afterEach(async () => {
    for (const tab of tabs) await tab.context.close();
    tabs = [];
    await admin?.close();
    admin = undefined;
  });

  async function open(options: Parameters<typeof openTab>[1] = {}): Promise<DashboardTab> {
    const tab = await openTab(browser, options);
    tabs.push(tab);
    return tab;
  }

  it('shows every server and turns one red, with its reason, as soon as the proxy takes it out', async () => {
    const fake = new FakeStatus(Date.now(), traffic());
    admin = new FakeAdmin({ page: DASHBOARD_HTML, status: () => (fake.tick(), fake.document()) });
    const { page, errors } = await open();
    await page.goto(await admin.listen());

    for (const name of ['server1', 'server2', 'server3']) {
      await waitForServer(page, `http/${name}`, 'up', WAIT_MS);
    }
    await page.waitForSelector('#conn[data-state="live"]', { timeout: WAIT_MS });
    expect(admin.eventQueries).toEqual(['?type=health,worker,health-check']);

    // Only the event can turn it red: /status answers nothing until release().
    fake.takeOut('server2', 'health-check', 'status 503 from /healthz');
    admin.hold();
    const answered = admin.statusAnswers;
    admin.push({
      type: 'health',
      pool: 'http',
      backend: 'server2',
      healthy: false,
      cause: 'health-check',
      reason: 'status 503 from /healthz',
    });
    await waitForServer(page, 'http/server2', 'down', DOWN_WITHIN_MS);
    expect(admin.statusAnswers).toBe(answered);
    expect(await serverCard(page, 'http/server2')).toEqual({
      badge: 'Down',
      colour: RED,
      why: 'Failed health checks: status 503 from /healthz',
    });
    expect(await page.textContent('#feed')).toContain('server2 out of rotation');

    // /status agrees once it answers; the others stay up.
    const updates = await updatesSeen(page);
    admin.release();
    await waitForUpdate(page, updates, WAIT_MS);
    await waitForServer(page, 'http/server2', 'down', WAIT_MS);
    await waitForServer(page, 'http/server1', 'up', WAIT_MS);
    expect(await page.title()).toBe('(1 down) rxproxy dashboard');
    expect(errors).toEqual([]);
  });

  it('draws traffic, fits a phone without scrolling sideways, and is screenshotted', async () => {
    const start = Date.parse('2025-06-02T14:20:00Z');
    const fake = new FakeStatus(start, traffic());
    fake.weigh('server1', 2);
    admin = new FakeAdmin({ page: DASHBOARD_HTML, status: () => fake.document() });
    const { page, errors } = await open({ clockAt: start });
    await page.goto(await admin.listen());
    await page.waitForSelector('#conn[data-state="live"]', { timeout: WAIT_MS });

    const at = () => new Date(fake.time);
    const worker = { type: 'worker', backend: 'server1', action: 'spawned', reason: 'pressure' };
    for (let second = 0; second < 300; second++) {
      fake.tick();
      if (second === 190) admin.push({ ...worker, worker: 5, workers: 5 }, at());
      if (second === 245) {
        admin.push(
          {
            type: 'health-check',
            pool: 'http',
            backend: 'server3',
            up: false,
            healthy: true,
            latencyMs: 2000,
            reason: 'timed out after 2000 ms',
          },
          at(),
        );
      }
      if (second === 280) {
        const reason = 'ejected after 5 failures for 30000 ms';
        fake.takeOut('server3', 'ejection', reason, fake.time + 30_000);
        admin.push(
          {
            type: 'health',
            pool: 'http',
            backend: 'server3',
            healthy: false,
            cause: 'ejection',
            reason,
            returnsAt: fake.time + 30_000,
          },
          at(),
        );
      }
      await nextPoll(page);
    }

    await waitForServer(page, 'http/server3', 'down', WAIT_MS);
    expect((await serverCard(page, 'http/server3')).why).toMatch(
      /^Ejected after 5 failures for 30000 ms · returns in \d+s \(14:2\d:\d\d\)$/,
    );
    // Each card draws a line of requests per second through many points.
    const lines = await page.evaluate<number[]>(
      `[...document.querySelectorAll('.server path.rate')].map((p) => p.getAttribute('d').split('L').length)`,
    );
    expect(lines.length).toBeGreaterThanOrEqual(3);
    expect(Math.min(...lines)).toBeGreaterThan(200);
    expect(await page.locator('#feed li').count()).toBe(3);
    expect(await scrollsSideways(page)).toBe(false);

    const screenshots = mkdtempSync(join(tmpdir(), 'dashboard-'));
    await page.screenshot({ path: join(screenshots, 'wide.png') });
    if (process.env.UPDATE_SCREENSHOTS === '1') await page.screenshot({ path: DOCS_SCREENSHOT });

    await page.setViewportSize({ width: 390, height: 844 });
    expect(await scrollsSideways(page)).toBe(false);
    await page.screenshot({ path: join(screenshots, 'phone.png'), fullPage: true });
    expect(errors).toEqual([]);
  }, 60_000);

  it('drops the token from the address, and says so when not signed in', async () => {
    const fake = new FakeStatus(Date.now(), traffic());
    admin = new FakeAdmin({ page: DASHBOARD_HTML, status: () => fake.document(), token: 's3cret' });
    const url = await admin.listen();

    const signedIn = await open();
    await signedIn.page.goto(`${url}?token=s3cret`);
    await waitForServer(signedIn.page, 'http/server1', 'up', WAIT_MS);
    expect(signedIn.page.url()).toBe(url);

    const stranger = await open();
    await stranger.page.goto(url);
    await stranger.page.waitForSelector('#notice:not([hidden])', { timeout: WAIT_MS });
    expect(await stranger.page.textContent('#notice')).toMatch(/401 Unauthorized.*\?token=/);
    expect(await stranger.page.$$('[data-server]')).toHaveLength(0);
    expect([...signedIn.errors, ...stranger.errors]).toEqual([]);
  });

  it('shows when the event stream is lost, reconnects, and folds repeated failures into one line', async () => {
    const fake = new FakeStatus(Date.now(), traffic());
    admin = new FakeAdmin({ page: DASHBOARD_HTML, status: () => fake.document() });
    const { page, errors } = await open();
    await page.goto(await admin.listen());
    await page.waitForSelector('#conn[data-state="live"]', { timeout: WAIT_MS });

    admin.refuseEvents = true;
    admin.dropEvents();
    await page.waitForSelector('#conn[data-state="closed"]', { timeout: WAIT_MS });
    expect(await page.textContent('#conn')).toMatch(/^Events disconnected, retrying in \d+s$/);

    admin.refuseEvents = false;
    await page.waitForSelector('#conn[data-state="live"]', { timeout: WAIT_MS });
    admin.push({
      type: 'worker',
      backend: 'server2',
      worker: 2,
      action: 'lost',
      workers: 3,
      error: 'ECONNRESET',
    });
    await page.waitForSelector('#feed li', { timeout: WAIT_MS });
    expect(await page.textContent('#feed')).toContain('server2 worker 2 lost: ECONNRESET');

    // A server failing probe after probe takes one line, until its health changes.
    const check = { type: 'health-check', pool: 'http', backend: 'server3', up: false };
    const failed = { ...check, healthy: false, latencyMs: 1, reason: 'ECONNREFUSED' };
    for (let i = 0; i < 3; i++) admin.push(failed);
    await waitInPage(page, `document.querySelector('#feed').textContent.includes('3 times')`);
    admin.push({ type: 'health', pool: 'http', backend: 'server3', healthy: true });
    admin.push(failed);
    await waitInPage(page, `document.querySelectorAll('#feed li').length === 4`);
    expect(await page.locator('#feed li[data-type="health-check"]').allTextContents()).toEqual([
      expect.stringMatching(/server3 failed a health check.*ECONNREFUSED · 1 ms$/),
      expect.stringMatching(/ECONNREFUSED · 1 ms · 3 times since \d\d:\d\d:\d\d$/),
    ]);
    expect(errors).toEqual([]);
  });

  describe('against the real proxy', () => {
    const harness = useHarness();
    const TOKEN = 'dashboard-test-token';

    it('marks a backend that was closed down within 2 s of the proxy noticing', async () => {
      const backends = [
        await harness.backend('a'),
        await harness.backend('b'),
        await harness.backend('c'),
      ];
      const running = await harness.proxy(
        `[http]\nalgorithm=round-robin\nenable_health_check=true\nhealth_check_interval=200ms\n` +
          `health_check_timeout=100ms\nhealth_check_fall=1\n` +
          backends.map((b, index) => `server${index + 1}=${b.address}\n`).join('') +
          `[admin]\nhost=127.0.0.1\nport=0\ntoken=${TOKEN}\n`,
      );
      const port = running.proxy.adminAddress?.port;
      for (let i = 0; i < 30; i++) await send(harness.client, `${running.url}/warm/${i}`);

      const { page, errors } = await open();
      await page.goto(`http://127.0.0.1:${port}/?token=${TOKEN}`);
      expect(page.url()).toBe(`http://127.0.0.1:${port}/`);
      for (const name of ['server1', 'server2', 'server3']) {
        await waitForServer(page, `http/${name}`, 'up', WAIT_MS);
      }
      await page.waitForSelector('#conn[data-state="live"]', { timeout: WAIT_MS });

      await backends[1]?.close();
      const noticed = () =>
        running.events.some(
          (event) => event.type === 'health' && event.backend === 'server2' && !event.healthy,
        );
      await waitUntil(noticed, 'the proxy takes server2 out', WAIT_MS);
      await waitForServer(page, 'http/server2', 'down', DOWN_WITHIN_MS);
      const card = await serverCard(page, 'http/server2');
      expect(card).toEqual(expect.objectContaining({ badge: 'Down', colour: RED }));
      expect(card.why).toMatch(/^Failed health checks: \S/);
      expect(await page.textContent('#feed')).toContain('server2 out of rotation');
      await waitForServer(page, 'http/server1', 'up', WAIT_MS);
      expect(await scrollsSideways(page)).toBe(false);
      expect(errors).toEqual([]);
    });

    it('shows a cluster’s servers with the counters of every worker summed', async () => {
      const backend = await harness.backend('a');
      const folder = mkdtempSync(join(tmpdir(), 'rxproxy-dashboard-'));
      harness.onCleanup(() => rmSync(folder, { recursive: true, force: true }));
      const adminPort = await unusedPort();
      const running = await spawnProxy(
        folder,
        `workers=2\n[http]\nserver1=${backend.address}\n` +
          `[admin]\nhost=127.0.0.1\nport=${adminPort}\ntoken=${TOKEN}\n`,
        await unusedPort(),
      );
      harness.onCleanup(async () => {
        if (running.cli.child.exitCode === null) running.cli.child.kill('SIGTERM');
        await running.cli.exited();
      });
      await waitUntil(
        () =>
          logLines(running.cli).filter(
            (line) => line.event === 'cluster-worker' && line.action === 'started',
          ).length >= 2,
        'both workers listen',
        WAIT_MS,
      );
      // Each GET on a connection of its own, so that node:cluster hands them to both workers.
      const freshGet = () =>
        new Promise<void>((resolve, reject) => {
          get({ host: '127.0.0.1', port: running.port, path: '/', agent: false }, (res) =>
            res.resume().on('end', resolve),
          ).on('error', reject);
        });
      for (let i = 0; i < 6; i++) await freshGet();

      const { page, errors } = await open();
      await page.goto(`http://127.0.0.1:${adminPort}/?token=${TOKEN}`);
      await waitForServer(page, 'http/server1', 'up', WAIT_MS);
      await waitInPage(
        page,
        `document.querySelector('[data-server="http/server1"] .foot').textContent.includes('6 served')`,
        WAIT_MS,
      );
      expect(await page.textContent('#meta')).toMatch(/ · 2 worker processes · /);
      expect(errors).toEqual([]);
    });
  });
});
