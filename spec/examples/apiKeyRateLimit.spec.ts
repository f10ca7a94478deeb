import { useHarness } from '../helpers/harness';
import { send } from '../helpers/proxy';
import { proxyWithExample } from './exampleProxy';

describe('examples/api-key-rate-limit.js', () => {
  const h = useHarness();

  async function setUp() {
    const backend = await h.backend('b1');
    const proxy = await proxyWithExample(
      h,
      'api-key-rate-limit.js',
      `[http]\nmax_workers=10\nserver1=${backend.address}\n`,
    );
    return { proxy, backend };
  }

  it('answers 401 to a request without a key', async () => {
    const { proxy, backend } = await setUp();
    expect(await send(h.client, `${proxy.url}/x`)).toMatchObject({
      status: 401,
      body: '{"error":"api key required"}',
    });
    expect(await send(h.client, `${proxy.url}/x`, { 'x-api-key': '' })).toMatchObject({
      status: 401,
    });
    expect(backend.received).toHaveLength(0);
  });

  it('limits each key on its own: a burst of 5, then 429 with Retry-After', async () => {
    const { proxy, backend } = await setUp();
    const burst = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        send(h.client, `${proxy.url}/k1/${i}`, { 'x-api-key': 'k1' }),
      ),
    );
    const passed = burst.filter((answer) => answer.status === 200);
    const limited = burst.filter((answer) => answer.status === 429);
    // 5 at once, plus at most a few refilled at 5/s if the machine is slow to send all 12.
    expect(passed.length).toBeGreaterThanOrEqual(5);
    expect(passed.length).toBeLessThanOrEqual(8);
    expect(passed.length + limited.length).toBe(12);
    expect(limited[0]).toMatchObject({ body: '{"error":"rate limited"}' });
    expect(limited[0]?.headers['retry-after']).toBe('1');

    const other = await send(h.client, `${proxy.url}/k2`, { 'x-api-key': 'k2' });
    expect(other.status).toBe(200);
    expect(backend.received).toHaveLength(passed.length + 1);
    expect(backend.received.every((r) => r.headers['x-api-key'] !== undefined)).toBe(true);
  });
});
