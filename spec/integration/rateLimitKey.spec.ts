import { useHarness } from '../helpers/harness';
import { send } from '../helpers/proxy';

describe('[hooks] rate_limit_key = header:NAME', () => {
  const h = useHarness();

  it('counts requests without the header in one shared bucket, not unlimited', async () => {
    const backend = await h.backend('b1');
    const proxy = await h.proxy(
      `[http]\nserver1=${backend.address}\n` +
        '[hooks]\nrate_limit=1/m\nrate_limit_key=header:X-Api-Key\n',
    );
    expect((await send(h.client, `${proxy.url}/a`)).status).toBe(200);
    expect(await send(h.client, `${proxy.url}/b`)).toMatchObject({
      status: 429,
      body: '{"error":"rate limited"}',
    });
    expect((await send(h.client, `${proxy.url}/c`, { 'x-api-key': 'k1' })).status).toBe(200);
    expect(backend.received.map((r) => r.url)).toEqual(['/a', '/c']);
  });
});
