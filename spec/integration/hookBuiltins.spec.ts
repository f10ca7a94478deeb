import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { NEVER, map } from 'rxjs';
import { loadHookModule } from '../../src/adapters/hookModule';
import { reply, type ProxyRequest } from '../../src/hooks/types';
import type { ProxyOptions } from '../../src/proxy';
import type { TestBackend } from '../helpers/backend';
import { useHarness } from '../helpers/harness';
import { iniWith, send, startProxy, type RunningProxy } from '../helpers/proxy';
import { startWsBackend } from '../helpers/wsBackend';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('hooks from the INI file and from a hook module', () => {
  const harness = useHarness();
  const cleanup = harness.onCleanup;

  async function setUp(
    hooks: string,
    options: ProxyOptions = {},
    frontend = '',
  ): Promise<{ proxy: RunningProxy; backend: TestBackend }> {
    const backend = await harness.backend('b1');
    const proxy = await startProxy(
      iniWith(`[http]\nserver1=${backend.address}\n[hooks]\n${hooks}\n`, frontend),
      options,
    );
    cleanup(() => proxy.stop());
    return { proxy, backend };
  }

  it('request_id: keeps a valid incoming id, makes a UUID otherwise, returns and logs it', async () => {
    const { proxy, backend } = await setUp('request_id=true');
    const kept = await send(harness.client, `${proxy.url}/a`, { 'x-request-id': 'abc-123' });
    const made = await send(harness.client, `${proxy.url}/b`, { 'x-request-id': 'has space' });
    expect(kept.headers['x-request-id']).toBe('abc-123');
    expect(made.headers['x-request-id']).toMatch(UUID);
    expect(backend.received.map((r) => r.headers['x-request-id'])).toEqual([
      'abc-123',
      made.headers['x-request-id'],
    ]);
    expect(proxy.events).toContainEqual(
      expect.objectContaining({ type: 'request', url: '/a', requestId: 'abc-123' }),
    );
  });

  it('allow_from: other clients get 403 forbidden', async () => {
    const refused = await setUp('allow_from=10.0.0.0/8, 192.168.1.7');
    const answer = await send(harness.client, `${refused.proxy.url}/x`);
    expect(answer).toMatchObject({ status: 403, body: '{"error":"forbidden"}' });
    expect(refused.backend.received).toHaveLength(0);
    const allowed = await setUp('allow_from=127.0.0.0/8, ::1');
    expect((await send(harness.client, `${allowed.proxy.url}/x`)).status).toBe(200);
  });

  it('rate_limit: over the bucket, 429 rate limited with Retry-After', async () => {
    const { proxy, backend } = await setUp('rate_limit=2/m\nrate_limit_burst=2');
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await send(harness.client, `${proxy.url}/r/${i}`));
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 429]);
    expect(answers[2]?.body).toBe('{"error":"rate limited"}');
    expect(Number(answers[2]?.headers['retry-after'])).toBeGreaterThanOrEqual(29);
    expect(backend.received).toHaveLength(2);
  });

  it('rate_limit_key=header: each key has its own bucket', async () => {
    const { proxy } = await setUp('rate_limit=1/m\nrate_limit_key=header:x-api-key');
    const statuses = [];
    for (const key of ['a', 'a', 'b']) {
      statuses.push((await send(harness.client, `${proxy.url}/k`, { 'x-api-key': key })).status);
    }
    expect(statuses).toEqual([200, 429, 200]);
  });

  it('strip_prefix and request/response header lines', async () => {
    const { proxy, backend } = await setUp(
      'strip_prefix=/api\nrequest_header1=X-Env: prod\nrequest_header2=X-Debug:\n' +
        'response_header1=Strict-Transport-Security: max-age=63072000\nresponse_header2=X-Powered-By:',
    );
    const answer = await send(harness.client, `${proxy.url}/api/items?q=1`, { 'x-debug': 'on' });
    const outside = await send(harness.client, `${proxy.url}/apix`);
    expect(answer.status).toBe(200);
    expect(answer.headers['strict-transport-security']).toBe('max-age=63072000');
    expect(outside.status).toBe(200);
    const [first, second] = backend.received;
    expect(first?.url).toBe('/items?q=1');
    expect(first?.headers['x-env']).toBe('prod');
    expect(first?.headers['x-debug']).toBeUndefined();
    expect(second?.url).toBe('/apix');
  });

  it('hook_timeout: a hook silent that long answers 504 hook timeout', async () => {
    const { proxy, backend } = await setUp('hook_timeout=200ms', {
      hooks: { request: () => NEVER },
    });
    const startedAt = Date.now();
    const answer = await send(harness.client, `${proxy.url}/t`);
    expect(answer).toMatchObject({ status: 504, body: '{"error":"hook timeout"}' });
    expect(Date.now() - startedAt).toBeLessThan(2000);
    expect(backend.received).toHaveLength(0);
  });

  it('trusted_proxies: the forwarded client is what allow_from sees and what X-Forwarded-For gets', async () => {
    const { proxy, backend } = await setUp(
      'allow_from=203.0.113.0/24',
      {},
      'trusted_proxies=127.0.0.0/8, ::1, 10.0.0.0/8',
    );
    const allowed = await send(harness.client, `${proxy.url}/in`, {
      'x-forwarded-for': '198.51.100.9, 203.0.113.5, 10.1.1.1',
    });
    const refused = await send(harness.client, `${proxy.url}/out`, {
      'x-forwarded-for': '198.51.100.9',
    });
    expect(allowed.status).toBe(200);
    expect(refused.status).toBe(403);
    expect(backend.received[0]?.headers['x-forwarded-for']).toBe(
      '198.51.100.9, 203.0.113.5, 10.1.1.1, 203.0.113.5',
    );
  });

  it('a hook module replies, rewrites and pins a backend', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'rxproxy-hooks-'));
    cleanup(() => rmSync(folder, { recursive: true, force: true }));
    const file = join(folder, 'hooks.js');
    writeFileSync(
      file,
      `module.exports = ({ rxjs: { map }, reply }) => ({
        request: (request$) => request$.pipe(map((req) => {
          if (req.path.startsWith('/admin')) return reply(req, 401, { error: 'login first' });
          req.headers['x-hooked'] = '1';
          req.url = req.url.replace('/old/', '/new/');
          req.backend = 'server2';
          return req;
        })),
        response: (response$) => response$.pipe(map((res) => {
          res.headers['x-served-by'] = res.backend;
          return res;
        })),
      });`,
    );
    const [one, two] = [await harness.backend('one'), await harness.backend('two')];
    const proxy = await startProxy(
      iniWith(`[http]\nserver1=${one.address}\nserver2=${two.address}\n[hooks]\nmodule=${file}\n`),
      { moduleHooks: await loadHookModule(file) },
    );
    cleanup(() => proxy.stop());
    expect(await send(harness.client, `${proxy.url}/admin`)).toMatchObject({
      status: 401,
      body: '{"error":"login first"}',
    });
    const served = await send(harness.client, `${proxy.url}/old/x`);
    expect(served.status).toBe(200);
    expect(served.headers['x-served-by']).toBe('server2');
    expect(one.received).toHaveLength(0);
    expect(two.received.map((r) => [r.url, r.headers['x-hooked']])).toEqual([['/new/x', '1']]);
  });

  it('runs the same hooks on WebSocket handshakes: a refusal before upgrading, headers that reach the backend', async () => {
    const wsBackend = await startWsBackend('ws1');
    cleanup(() => wsBackend.close());
    const proxy = await startProxy(
      iniWith(
        `[websocket]\nserver1=${wsBackend.address}\n[hooks]\nrequest_id=true\n` +
          `request_header1=X-Env: prod\nresponse_header1=X-Frame-Options: DENY\n`,
      ),
      {
        hooks: {
          request: map((req: ProxyRequest) =>
            req.upgrade && req.path === '/private'
              ? reply(req, 401, { error: 'login first' })
              : req,
          ),
        },
      },
    );
    cleanup(() => proxy.stop());
    const url = `ws://127.0.0.1:${proxy.address.port}`;
    const refused = new WebSocket(`${url}/private`);
    const status = await new Promise<number>((resolve, reject) => {
      refused.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      refused.once('open', () => reject(new Error('the refused handshake was upgraded')));
      refused.once('error', () => undefined);
    });
    expect(status).toBe(401);
    const opened = new WebSocket(`${url}/chat`, { headers: { 'x-request-id': 'ws-1' } });
    const switching = new Promise<Record<string, unknown>>((resolve, reject) => {
      opened.once('upgrade', (response) => resolve(response.headers));
      opened.once('error', reject);
    });
    await new Promise<void>((resolve) => opened.once('open', () => resolve()));
    opened.close();
    expect(wsBackend.upgrades.map((upgrade) => upgrade.url)).toEqual(['/chat']);
    expect(wsBackend.upgrades[0]?.headers['x-env']).toBe('prod');
    expect(wsBackend.upgrades[0]?.headers['x-request-id']).toBe('ws-1');
    expect(await switching).toMatchObject({ 'x-request-id': 'ws-1', 'x-frame-options': 'DENY' });
  });
});
