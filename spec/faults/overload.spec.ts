import { Agent, request } from 'undici';
import { slowly } from '../helpers/backend';
import { useHarness } from '../helpers/harness';
import { sleep, waitUntil } from '../helpers/waitUntil';

interface Answer {
  readonly status: number;
  readonly body: string;
  readonly retryAfter: string | string[] | undefined;
  readonly elapsedMs: number;
}

async function send(client: Agent, url: string, headers: Record<string, string> = {}) {
  const startedAt = Date.now();
  const response = await request(url, { dispatcher: client, headers });
  const body = await response.body.text();
  return {
    status: response.statusCode,
    body,
    retryAfter: response.headers['retry-after'],
    elapsedMs: Date.now() - startedAt,
  } satisfies Answer;
}

describe('overload: requests wait for capacity instead of failing', () => {
  const harness = useHarness(() => new Agent({ keepAliveTimeout: 1000, connections: 100 }));
  const { backend, proxy } = harness;

  it('serves 5000 requests from 100 concurrent clients over two default backends, never above max_workers each', async () => {
    const backends = [await backend('a', slowly(2)), await backend('b', slowly(2))];
    const running = await proxy(
      `[http]\n${backends.map((b, i) => `server${i + 1}=${b.address}\n`).join('')}`,
    );
    const statuses = new Map<number, number>();
    const deadline = Date.now() + 60_000;
    await Promise.all(
      Array.from({ length: 100 }, async (_, loop) => {
        for (let i = 0; i < 50 && Date.now() < deadline; i++) {
          const { status } = await send(harness.client, `${running.url}/c/${loop}/${i}`);
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
        }
      }),
    );
    expect(Object.fromEntries(statuses)).toEqual({ 200: 5000 });
    for (const target of backends) expect(target.connections.peak).toBeLessThanOrEqual(3);
  });

  it('serves a cold burst of 32 slow requests to a fresh pool (min 2, max 4, queue 8)', async () => {
    const target = await backend('a', slowly(300));
    const running = await proxy(
      `[http]\nserver1=${target.address}\nmin_workers=2\nmax_workers=4\nbuffer_size=8\n`,
    );
    const answers = await Promise.all(
      Array.from({ length: 32 }, (_, i) => send(harness.client, `${running.url}/burst/${i}`)),
    );
    expect(answers.map((answer) => answer.status)).toEqual(Array(32).fill(200));
    expect(target.connections.peak).toBe(4);
  });

  it('serves waiting requests first come, first served', async () => {
    const target = await backend('a', slowly(60));
    const running = await proxy(
      `[http]\nserver1=${target.address}\nmax_workers=1\nbuffer_size=1\n`,
    );
    const pending = [];
    for (let i = 0; i < 8; i++) {
      pending.push(send(harness.client, `${running.url}/order/${i}`));
      await sleep(15);
    }
    expect((await Promise.all(pending)).map((answer) => answer.status)).toEqual(Array(8).fill(200));
    expect(target.received.map((received) => received.url)).toEqual(
      Array.from({ length: 8 }, (_, i) => `/order/${i}`),
    );
  });

  it('answers 503 with Retry-After at once when the waiting line is full', async () => {
    const target = await backend('a', slowly(600));
    const running = await proxy(
      `[http]\nserver1=${target.address}\nmax_workers=1\nbuffer_size=1\nmax_pending=2\n`,
    );
    const held = Array.from({ length: 4 }, (_, i) => send(harness.client, `${running.url}/h/${i}`));
    await waitUntil(() => target.received.length === 1, 'the first request runs');
    await sleep(100);
    const refused = await send(harness.client, `${running.url}/refused`);
    expect(refused).toMatchObject({
      status: 503,
      body: '{"error":"service unavailable"}',
      retryAfter: '1',
    });
    expect(refused.elapsedMs).toBeLessThan(500);
    expect((await Promise.all(held)).every((answer) => answer.status === 200)).toBe(true);
    expect(target.received.map((received) => received.url)).not.toContain('/refused');
  });

  it('bounds the whole wait, line and backend queue together, by queue_timeout', async () => {
    const target = await backend('a', slowly(2500));
    const running = await proxy(
      `[http]\nserver1=${target.address}\nmax_workers=1\nbuffer_size=1\nqueue_timeout=800ms\n`,
    );
    const first = send(harness.client, `${running.url}/first`);
    await waitUntil(() => target.received.length === 1, 'the first request runs');
    const [queued, lined] = await Promise.all([
      send(harness.client, `${running.url}/queued`),
      send(harness.client, `${running.url}/lined`),
    ]);
    for (const answer of [queued, lined]) {
      expect(answer).toMatchObject({ status: 503, retryAfter: '1' });
      expect(answer.elapsedMs).toBeGreaterThanOrEqual(700);
      expect(answer.elapsedMs).toBeLessThan(2500);
    }
    expect((await first).status).toBe(200);
    expect(target.received.map((received) => received.url)).toEqual(['/first']);
  });

  it('takes a request whose client went away out of the line at once', async () => {
    const target = await backend('a', slowly(400));
    const running = await proxy(
      `[http]\nserver1=${target.address}\nmax_workers=1\nbuffer_size=1\n`,
    );
    const first = send(harness.client, `${running.url}/first`);
    await waitUntil(() => target.received.length === 1, 'the first request runs');
    const second = send(harness.client, `${running.url}/second`);
    const abandoned = new AbortController();
    const gone = request(`${running.url}/gone`, {
      dispatcher: harness.client,
      signal: abandoned.signal,
    }).catch(() => undefined);
    await sleep(50);
    abandoned.abort();
    await gone;
    const third = send(harness.client, `${running.url}/third`);
    const answers = await Promise.all([first, second, third]);
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200]);
    expect(target.received.map((received) => received.url)).toEqual([
      '/first',
      '/second',
      '/third',
    ]);
    await waitUntil(
      () =>
        running.events.some(
          (event) => event.type === 'request' && event.url === '/gone' && event.status === 499,
        ),
      'the abandoned request is logged as 499',
    );
  });

  it('round-robin: a waiting request takes a place on whichever backend frees first', async () => {
    const [a, b] = [await backend('a', slowly(100)), await backend('b', slowly(400))];
    const running = await proxy(
      `[http]\nalgorithm=round-robin\nmax_workers=1\nbuffer_size=1\n` +
        `server1=${a.address}\nserver2=${b.address}\n`,
    );
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) => send(harness.client, `${running.url}/rr/${i}`)),
    );
    expect(answers.map((answer) => answer.status)).toEqual(Array(8).fill(200));
    // b holds two requests for 800 ms; a serves the other six in that time.
    expect(a.received.length).toBeGreaterThanOrEqual(5);
    expect(a.received.length + b.received.length).toBe(8);
  });

  it('consistent-hash: a waiting request waits for its key owner, not any backend', async () => {
    const [a, b] = [await backend('a', slowly(100)), await backend('b', slowly(100))];
    const running = await proxy(
      `[http]\nalgorithm=consistent-hash\nhash_key=header:x-key\nmax_workers=1\nbuffer_size=1\n` +
        `server1=${a.address}\nserver2=${b.address}\n`,
    );
    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        send(harness.client, `${running.url}/k/${i}`, { 'x-key': 'user-7' }),
      ),
    );
    expect(answers.map((answer) => answer.status)).toEqual(Array(6).fill(200));
    const owners = answers.map(
      (answer) => (JSON.parse(answer.body) as { backend: string }).backend,
    );
    expect(new Set(owners).size).toBe(1);
  });
});
