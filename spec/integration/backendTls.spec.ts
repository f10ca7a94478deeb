import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfigText } from '../../src/adapters/configFile';
import { useHarness } from '../helpers/harness';
import { getJson, type RunningProxy } from '../helpers/proxy';
import { problemLines } from '../helpers/configResult';
import { createTestCertificates, type TestCertificates } from '../helpers/testCertificates';
import { waitUntil } from '../helpers/waitUntil';
import { startWsBackend } from '../helpers/wsBackend';
import { closeOf, echoOf, openRecording } from '../helpers/wsClient';

let certs: TestCertificates;
beforeAll(() => {
  certs = createTestCertificates();
});
afterAll(() => certs.remove());

const requestErrors = (running: RunningProxy) =>
  running.events.flatMap((event) =>
    event.type === 'request' && event.error !== undefined ? [event.error] : [],
  );

describe('backends over TLS: the HTTP pool', () => {
  const harness = useHarness();
  const { backend, proxy } = harness;
  const httpsBackend = (name: string, names = ['localhost', '127.0.0.1']) =>
    backend(name, undefined, { tls: certs.issue(name, names) });

  it('forwards to an https:// server whose certificate the tls_ca signed, with the usual X-Forwarded-* headers', async () => {
    const secure = await httpsBackend('secure');
    const running = await proxy(
      `[http]\ntls_ca=${certs.ca.certFile}\nserver1=https://${secure.address}\n`,
    );
    const { status, body } = await getJson(harness.client, `${running.url}/over/tls?x=1`);
    expect(status).toBe(200);
    expect(body).toEqual({ backend: 'secure', url: '/over/tls?x=1' });
    const seen = secure.received.find((request) => request.url === '/over/tls?x=1');
    expect(seen?.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen?.headers['x-forwarded-proto']).toBe('http');
    expect(seen?.headers['x-forwarded-host']).toBe(`127.0.0.1:${running.address.port}`);
  });

  it('accepts wss:// in [http] as TLS too, and a name (localhost) the certificate carries', async () => {
    const secure = await httpsBackend('named');
    const running = await proxy(
      `[http]\ntls_ca=${certs.ca.certFile}\nserver1_addr=wss://localhost:${secure.port}\n`,
    );
    expect((await getJson(harness.client, `${running.url}/a`)).status).toBe(200);
  });

  it('answers 502 JSON when the certificate cannot be verified (no tls_ca), logs the TLS error and counts the failure against the backend', async () => {
    const secure = await httpsBackend('untrusted');
    const plain = await backend('plain');
    const running = await proxy(
      `[http]\nalgorithm=round-robin\nmax_fails=1\neject_time=30s\nretries=0\n` +
        `server1=https://${secure.address}\nserver2=${plain.address}\n`,
    );
    const first = await getJson(harness.client, `${running.url}/first`);
    // A failed handshake is a failed connection: the request goes to server2.
    expect(first).toMatchObject({ status: 200, body: { backend: 'plain' } });
    await waitUntil(
      () =>
        running.events.some(
          (event) => event.type === 'health' && event.backend === 'server1' && !event.healthy,
        ),
      'server1 is ejected',
    );
    expect(secure.received).toEqual([]);
    const lost = running.events.find(
      (event) => event.type === 'worker' && event.backend === 'server1' && event.error,
    );
    expect(lost).toMatchObject({ action: 'lost' });
    expect(lost?.type === 'worker' ? lost.error : undefined).toMatch(/certificate/i);
  });

  it('gives the client the proxy 502 JSON when the only backend fails verification, with the TLS error in the request log', async () => {
    const secure = await httpsBackend('alone');
    const running = await proxy(`[http]\nserver1=https://${secure.address}\n`);
    const answer = await getJson(harness.client, `${running.url}/x`);
    expect(answer.status).toBe(502);
    expect(answer.body).toEqual({ error: 'bad gateway' });
    expect(requestErrors(running)).toEqual([
      expect.stringMatching(/^UNABLE_TO_VERIFY_LEAF_SIGNATURE: /),
    ]);
  });

  it('reports a self-signed certificate as DEPTH_ZERO_SELF_SIGNED_CERT', async () => {
    const self = await backend('self', undefined, {
      tls: certs.selfSigned('self', ['127.0.0.1']),
    });
    const running = await proxy(
      `[http]\ntls_ca=${certs.ca.certFile}\nserver1=https://${self.address}\n`,
    );
    expect((await getJson(harness.client, `${running.url}/x`)).status).toBe(502);
    expect(requestErrors(running)).toEqual([
      expect.stringMatching(/^DEPTH_ZERO_SELF_SIGNED_CERT: /),
    ]);
  });

  it('with tls_verify=false accepts any certificate and logs one warning at start naming the section', async () => {
    const secure = await httpsBackend('unchecked');
    const running = await proxy(
      `[http]\ntls_verify=false\nserver1=https://${secure.address}\nserver2=https://${secure.address}\n`,
    );
    expect((await getJson(harness.client, `${running.url}/y`)).status).toBe(200);
    const warnings = running.events.filter((event) => event.type === 'tls-unverified');
    expect(warnings).toEqual([
      { type: 'tls-unverified', pool: 'http', servers: ['server1', 'server2'] },
    ]);
  });

  it('logs no warning for tls_verify=false without TLS servers', async () => {
    const plain = await backend('plain');
    const running = await proxy(`[http]\ntls_verify=false\nserver1=${plain.address}\n`);
    expect(running.events.filter((event) => event.type === 'tls-unverified')).toEqual([]);
  });

  it('checks the certificate against tls_servername: 200 with it, 502 (ERR_TLS_CERT_ALTNAME_INVALID) without', async () => {
    const named = await httpsBackend('sni', ['backend.test']);
    const withName = await proxy(
      `[http]\ntls_ca=${certs.ca.certFile}\ntls_servername=backend.test\nserver1=https://${named.address}\n`,
    );
    expect((await getJson(harness.client, `${withName.url}/sni`)).status).toBe(200);
    const withoutName = await proxy(
      `[http]\ntls_ca=${certs.ca.certFile}\nserver1=https://${named.address}\n`,
    );
    expect((await getJson(harness.client, `${withoutName.url}/sni`)).status).toBe(502);
    expect(requestErrors(withoutName)).toEqual([
      expect.stringMatching(/^ERR_TLS_CERT_ALTNAME_INVALID: /),
    ]);
  });

  it('keeps plain servers plain beside TLS ones (http:// is plain too)', async () => {
    const plain = await backend('plain');
    const running = await proxy(`[http]\nserver1=http://${plain.address}\n`);
    expect((await getJson(harness.client, `${running.url}/p`)).status).toBe(200);
    expect(running.config.http?.servers[0]?.tls).toBeUndefined();
  });

  it('health checks an https:// server over TLS with the same settings: healthy with the CA, unhealthy with another', async () => {
    const secure = await httpsBackend('probed');
    const health = 'enable_health_check=true\nhealth_check_interval=100ms\nhealth_check_rise=1\n';
    const trusted = await proxy(
      `[http]\n${health}tls_ca=${certs.ca.certFile}\nserver1=https://${secure.address}\n`,
    );
    await waitUntil(
      () => trusted.events.some((event) => event.type === 'health-check' && event.up),
      'a probe passes',
    );
    expect(secure.received.some((request) => request.url === '/healthCheck')).toBe(true);

    const other = createTestCertificates();
    harness.onCleanup(() => other.remove());
    const distrusted = await proxy(
      `[http]\n${health}tls_ca=${other.ca.certFile}\nserver1=https://${secure.address}\n`,
    );
    await waitUntil(
      () => distrusted.events.some((event) => event.type === 'health-check' && !event.up),
      'a probe fails',
    );
    const failed = distrusted.events.find((event) => event.type === 'health-check');
    expect(failed).toMatchObject({ up: false, healthy: false });
    expect(failed?.type === 'health-check' ? failed.reason : undefined).toMatch(
      /^UNABLE_TO_VERIFY_LEAF_SIGNATURE: /,
    );
  });
});

describe('backends over TLS: the WebSocket pool', () => {
  const harness = useHarness();

  it('tunnels a WebSocket to a wss:// backend: messages both ways and the close code', async () => {
    const tls = certs.issue('ws', ['localhost', '127.0.0.1']);
    const secure = await startWsBackend('wss', { tls });
    harness.onCleanup(() => secure.close());
    const running = await harness.proxy(
      `[websocket]\ntls_ca=${certs.ca.certFile}\nserver1=wss://${secure.address}\n`,
    );
    const client = await openRecording(
      `ws://127.0.0.1:${running.address.port}/chat`,
      harness.onCleanup,
    );
    expect(await echoOf(client, 'hello over tls')).toBe('hello over tls');
    const big = 'x'.repeat(200_000);
    expect(await echoOf(client, big)).toBe(big);
    expect(secure.upgrades[0]?.url).toBe('/chat');
    client.ws.close(4001, 'done');
    expect((await closeOf(client)).code).toBe(4001);
    await waitUntil(() => secure.closes.length > 0, 'the backend sees the close');
    expect(secure.closes[0]).toMatchObject({ code: 4001, reason: 'done' });
  });

  it('passes a close the backend starts to the client', async () => {
    const tls = certs.issue('ws-close', ['127.0.0.1']);
    const secure = await startWsBackend('wss', {
      tls,
      onConnection: (socket) => socket.on('message', () => socket.close(4002, 'bye')),
    });
    harness.onCleanup(() => secure.close());
    const running = await harness.proxy(
      `[websocket]\ntls_ca=${certs.ca.certFile}\nserver1=wss://${secure.address}\n`,
    );
    const client = await openRecording(
      `ws://127.0.0.1:${running.address.port}/`,
      harness.onCleanup,
    );
    client.ws.send('close please');
    expect((await closeOf(client)).code).toBe(4002);
  });

  it('refuses the upgrade with 502 when the certificate does not verify', async () => {
    const tls = certs.issue('ws-bad', ['127.0.0.1']);
    const secure = await startWsBackend('wss', { tls });
    harness.onCleanup(() => secure.close());
    const running = await harness.proxy(`[websocket]\nserver1=wss://${secure.address}\n`);
    await expect(
      openRecording(`ws://127.0.0.1:${running.address.port}/`, harness.onCleanup),
    ).rejects.toThrow(/502/);
    expect(secure.upgrades).toEqual([]);
  });
});

describe('backends over TLS: configuration problems', () => {
  const ini = (pool: string) => `[frontend]\nhost=127.0.0.1\nport=0\n[http]\n${pool}`;

  it('lists a tls_ca file that does not exist, and one that is not PEM, with every other problem', () => {
    const garbage = join(certs.dir, 'garbage.pem');
    writeFileSync(garbage, 'not a certificate\n');
    const broken = join(certs.dir, 'broken.pem');
    writeFileSync(broken, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    const missing = join(certs.dir, 'missing.pem');
    const text =
      `[frontend]\nhost=127.0.0.1\nport=0\n` +
      `[http]\ntls_ca=${missing}\nserver1=https://127.0.0.1:1\nmax_fails=0\n` +
      `[websocket]\ntls_ca=${garbage}\nserver1=wss://127.0.0.1:1\n`;
    expect(problemLines(parseConfigText(text, 'tls.ini', {}))).toEqual([
      expect.stringMatching(new RegExp(`^tls.ini: \\[http\\] max_fails: `)),
      `tls.ini: [http] tls_ca: cannot read ${missing}: ENOENT: no such file or directory, open '${missing}'`,
      `tls.ini: [websocket] tls_ca: ${garbage} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`,
    ]);
    expect(
      problemLines(
        parseConfigText(ini(`tls_ca=${broken}\nserver1=https://127.0.0.1:1\n`), 'tls.ini', {}),
      ),
    ).toEqual([
      expect.stringMatching(
        /^tls.ini: \[http\] tls_ca: .*broken\.pem: certificate 1 is not valid: /,
      ),
    ]);
  });

  it('lists a bad tls_servername, tls_verify and scheme', () => {
    const text = ini('tls_servername=10.0.0.1\ntls_verify=maybe\nserver1=ftp://127.0.0.1:21\n');
    expect(problemLines(parseConfigText(text, 'tls.ini', {}))).toEqual([
      'tls.ini: [http] tls_servername: "10.0.0.1" is an IP address; a server name is a hostname',
      'tls.ini: [http] tls_verify: "maybe" is not true or false',
      'tls.ini: [http] server1: "ftp://127.0.0.1:21": unknown scheme ftp:// (use http, https, ws or wss)',
    ]);
  });
});
