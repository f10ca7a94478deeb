import { useHarness } from '../helpers/harness';
import { send } from '../helpers/proxy';

describe('[frontend] trusted_proxies', () => {
  const h = useHarness();

  it('uses the forwarded client for allow_from and appends it, not the peer, to X-Forwarded-For', async () => {
    const backend = await h.backend('b1');
    const proxy = await h.proxy(
      `[http]\nserver1=${backend.address}\n[hooks]\nallow_from=198.51.100.0/24\n`,
      'trusted_proxies=127.0.0.1\n',
    );
    const allowed = await send(h.client, `${proxy.url}/in`, {
      'x-forwarded-for': '203.0.113.5, 198.51.100.1',
    });
    expect(allowed.status).toBe(200);
    expect(backend.received[0]?.headers['x-forwarded-for']).toBe(
      '203.0.113.5, 198.51.100.1, 198.51.100.1',
    );
    const refused = await send(h.client, `${proxy.url}/out`, { 'x-forwarded-for': '203.0.113.9' });
    expect(refused).toMatchObject({ status: 403, body: '{"error":"forbidden"}' });
    expect(backend.received).toHaveLength(1);
  });
});
