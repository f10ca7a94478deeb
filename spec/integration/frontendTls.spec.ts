import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { createServer as createTcpServer, type AddressInfo, type Server } from 'node:net';
import { connect, type PeerCertificate } from 'node:tls';
import { promisify } from 'node:util';
import { WebSocket, type ClientOptions } from 'ws';
import { useHarness } from '../helpers/harness';
import { configFromIni, eventsOf, iniWith, type RunningProxy } from '../helpers/proxy';
import { createTestCertificates, type TestCertificates } from '../helpers/testCertificates';
import { waitUntil } from '../helpers/waitUntil';
import { startWsBackend } from '../helpers/wsBackend';
import { httpsLocation } from '../../src/adapters/httpsRedirect';
import { createProxy } from '../../src/proxy';

let certs: TestCertificates;
beforeAll(() => {
  certs = createTestCertificates();
});
afterAll(() => certs.remove());

const run = promisify(execFile);

/** curl over HTTP/1.1 to `name` resolved to the proxy, trusting the test CA. */
async function curl(running: RunningProxy, name: string, path: string): Promise<string> {
  const port = running.address.port;
  const { stdout } = await run('curl', [
    '--http1.1', '-sS', '--cacert', certs.ca.certFile,
    '--resolve', `${name}:${port}:127.0.0.1`, `https://${name}:${port}${path}`,
  ]); // prettier-ignore
  return stdout;
}

/** The subjectAltName of the certificate the proxy shows for `servername` (none: no SNI). */
function peerNames(port: number, servername?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(
      {
        host: '127.0.0.1',
        port,
        ...(servername === undefined ? {} : { servername }),
        ca: certs.ca.cert,
        checkServerIdentity: () => undefined,
      },
      () => {
        const peer: PeerCertificate = socket.getPeerCertificate();
        socket.end();
        resolve(peer.subjectaltname ?? '');
      },
    );
    socket.on('error', reject);
  });
}

describe('TLS on the front door', () => {
  const harness = useHarness();
  const { backend, proxy } = harness;

  const withCertificate = (label: string, names: string[]) => {
    const leaf = certs.issue(label, names, 90);
    return `tls_cert=${leaf.certFile}\ntls_key=${leaf.keyFile}\n`;
  };

  it('serves HTTPS to curl --http1.1 and tells the backend X-Forwarded-Proto: https', async () => {
    const app = await backend('app');
    const running = await proxy(
      `[http]\nserver1=${app.address}\n`,
      withCertificate('door', ['proxy.test']),
    );
    const body = await curl(running, 'proxy.test', '/over/https?x=1');
    expect(JSON.parse(body)).toEqual({ backend: 'app', url: '/over/https?x=1' });
    const seen = app.received.find((request) => request.url === '/over/https?x=1');
    expect(seen?.headers['x-forwarded-proto']).toBe('https');
    expect(eventsOf(running, 'certificate-expiring')).toEqual([]);
  });

  it('answers a Node https client, and refuses a client below tls_min_version', async () => {
    const app = await backend('app');
    const running = await proxy(
      `[http]\nserver1=${app.address}\n`,
      `${withCertificate('modern', ['proxy.test'])}tls_min_version=TLSv1.3\n`,
    );
    const get = (maxVersion: 'TLSv1.2' | 'TLSv1.3') =>
      new Promise<number>((resolve, reject) => {
        const req = httpsRequest(
          {
            host: '127.0.0.1',
            port: running.address.port,
            servername: 'proxy.test',
            ca: certs.ca.cert,
            path: '/node',
            maxVersion,
            agent: false,
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.end();
      });
    expect(await get('TLSv1.3')).toBe(200);
    await expect(get('TLSv1.2')).rejects.toThrow(/protocol version|alert/i);
  });

  it('chooses the certificate by SNI from tls_cert_dir (wildcards too) and the default without SNI', async () => {
    const app = await backend('app');
    const dir = join(certs.dir, 'sni');
    mkdirSync(dir, { recursive: true });
    for (const [name, names] of [
      ['alpha', ['alpha.test']],
      ['wild', ['*.apps.test']],
    ] as const) {
      const leaf = certs.issue(`sni-${name}`, [...names], 90);
      copyFileSync(leaf.certFile, join(dir, `${name}.crt`));
      copyFileSync(leaf.keyFile, join(dir, `${name}.key`));
    }
    const running = await proxy(`[http]\nserver1=${app.address}\n`, `tls_cert_dir=${dir}\n`);
    const port = running.address.port;
    expect(await peerNames(port, 'alpha.test')).toBe('DNS:alpha.test');
    expect(await peerNames(port, 'one.apps.test')).toBe('DNS:*.apps.test');
    // A wildcard covers one label only: these get the default (the first pair, alpha).
    expect(await peerNames(port, 'a.b.apps.test')).toBe('DNS:alpha.test');
    expect(await peerNames(port)).toBe('DNS:alpha.test');
    expect(JSON.parse(await curl(running, 'x.apps.test', '/wild'))).toMatchObject({
      url: '/wild',
    });
  });

  it('uses tls_cert as the default beside tls_cert_dir', async () => {
    const app = await backend('app');
    const dir = join(certs.dir, 'beside');
    mkdirSync(dir, { recursive: true });
    const named = certs.issue('beside-named', ['named.test'], 90);
    copyFileSync(named.certFile, join(dir, 'named.crt'));
    copyFileSync(named.keyFile, join(dir, 'named.key'));
    const running = await proxy(
      `[http]\nserver1=${app.address}\n`,
      `${withCertificate('main', ['main.test'])}tls_cert_dir=${dir}\n`,
    );
    expect(await peerNames(running.address.port)).toBe('DNS:main.test');
    expect(await peerNames(running.address.port, 'named.test')).toBe('DNS:named.test');
  });

  it('carries a wss:// WebSocket from the client to a plain backend and back', async () => {
    const echo = await startWsBackend('echo');
    harness.onCleanup(() => echo.close());
    const running = await proxy(
      `[websocket]\nserver1=${echo.address}\n`,
      withCertificate('wss', ['proxy.test']),
    );
    // ws hands its options to tls.connect, which takes the SNI name.
    const options: ClientOptions & { servername: string } = {
      ca: certs.ca.cert,
      servername: 'proxy.test',
    };
    const client = new WebSocket(`wss://127.0.0.1:${running.address.port}/chat`, options);
    const reply = await new Promise<string>((resolve, reject) => {
      client.once('open', () => client.send('hello over tls'));
      client.once('message', (data) => resolve((data as Buffer).toString()));
      client.once('error', reject);
    });
    client.close();
    expect(reply).toBe('hello over tls');
    expect(echo.upgrades[0]?.headers['x-forwarded-proto']).toBe('https');
  });

  it('warns at start of a certificate that ends within 30 days', async () => {
    const app = await backend('app');
    const running = await proxy(
      `[http]\nserver1=${app.address}\n`,
      `tls_cert=${certs.issue('soon', ['soon.test'], 2).certFile}\n` +
        `tls_key=${join(certs.dir, 'soon.key')}\n`,
    );
    await waitUntil(() => eventsOf(running, 'certificate-expiring').length > 0, 'a warning');
    expect(eventsOf(running, 'certificate-expiring')[0]).toMatchObject({
      name: 'tls_cert',
      daysLeft: 1,
    });
  });
});

/** A loopback port that was free a moment ago (for keys that do not take 0). */
async function freePort(): Promise<number> {
  const server: Server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Status line and headers (lower-cased names) of curl's plain HTTP request, `extra` added. */
async function curlHead(url: string, extra: string[] = []): Promise<Record<string, string>> {
  const { stdout } = await run('curl', ['-sS', '-o', '/dev/null', '-D', '-', ...extra, url]);
  const [statusLine = '', ...lines] = stdout.split('\r\n');
  const head: Record<string, string> = { status: statusLine.split(' ')[1] ?? '' };
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) head[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return head;
}

describe('redirect_http_port', () => {
  const harness = useHarness();
  const { backend, proxy } = harness;

  it('answers every plain request with 308 to the same path and query over HTTPS', async () => {
    const app = await backend('app');
    const redirectPort = await freePort();
    const leaf = certs.issue('redirect', ['proxy.test'], 90);
    const running = await proxy(
      `[http]\nserver1=${app.address}\n`,
      `tls_cert=${leaf.certFile}\ntls_key=${leaf.keyFile}\nredirect_http_port=${redirectPort}\n`,
    );
    const tlsPort = running.address.port;
    const base = `http://127.0.0.1:${redirectPort}`;
    const withQuery = await curlHead(`${base}/a/b%20c?x=1&y=%2F`, ['-H', 'Host: proxy.test:8080']);
    expect(withQuery.status).toBe('308');
    expect(withQuery.location).toBe(`https://proxy.test:${tlsPort}/a/b%20c?x=1&y=%2F`);
    const post = await curlHead(`${base}/form`, ['-X', 'POST', '-d', 'a=1']);
    expect(post.status).toBe('308');
    expect(post.location).toBe(`https://127.0.0.1:${tlsPort}/form`);
    const ipv6 = await curlHead(`${base}/`, ['-H', 'Host: [::1]:80']);
    expect(ipv6.location).toBe(`https://[::1]:${tlsPort}/`);
    expect(app.received).toEqual([]);
  });

  it('answers a request without Host with the JSON 400', async () => {
    const app = await backend('app');
    const redirectPort = await freePort();
    const leaf = certs.issue('redirect-nohost', ['proxy.test'], 90);
    await proxy(
      `[http]\nserver1=${app.address}\n`,
      `tls_cert=${leaf.certFile}\ntls_key=${leaf.keyFile}\nredirect_http_port=${redirectPort}\n`,
    );
    const { stdout } = await run('curl', [
      '-sS', '-H', 'Host:', '-w', '\n%{http_code}', `http://127.0.0.1:${redirectPort}/x`,
    ]); // prettier-ignore
    const [body, status] = stdout.split('\n');
    expect(status).toBe('400');
    expect(JSON.parse(body ?? '')).toEqual({ error: 'bad request' });
  });

  it('fails the start like the front door when its port is taken', async () => {
    const holder: Server = createTcpServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    harness.onCleanup(() => new Promise<void>((resolve) => holder.close(() => resolve())));
    const taken = (holder.address() as AddressInfo).port;
    const leaf = certs.issue('redirect-taken', ['proxy.test'], 90);
    const tls = `tls_cert=${leaf.certFile}\ntls_key=${leaf.keyFile}\nredirect_http_port=${taken}\n`;
    const proxy = createProxy(configFromIni(iniWith('[http]\nserver1=127.0.0.1:9\n', tls)));
    await expect(proxy.start()).rejects.toMatchObject({ code: 'EADDRINUSE', listener: 'redirect' });
    await proxy.stop();
  });

  it('leaves the port out of the Location for 443', () => {
    expect(httpsLocation('proxy.test', 443, '/p?q=1')).toBe('https://proxy.test/p?q=1');
    expect(httpsLocation('proxy.test', 8443, '/p?q=1')).toBe('https://proxy.test:8443/p?q=1');
  });

  it('is re-bound with the front door on reload and closed on stop', async () => {
    const app = await backend('app');
    const [first, second] = [await freePort(), await freePort()];
    const leaf = certs.issue('redirect-reload', ['proxy.test'], 90);
    const tls = `tls_cert=${leaf.certFile}\ntls_key=${leaf.keyFile}\n`;
    const running = await proxy(
      `[http]\nserver1=${app.address}\n`,
      `${tls}redirect_http_port=${first}\n`,
    );
    expect((await curlHead(`http://127.0.0.1:${first}/r`)).status).toBe('308');
    await running.proxy.reload(
      configFromIni(
        iniWith(`[http]\nserver1=${app.address}\n`, `${tls}redirect_http_port=${second}\n`),
      ),
    );
    const moved = await curlHead(`http://127.0.0.1:${second}/r?q`);
    expect(moved.location).toBe(`https://127.0.0.1:${running.proxy.address?.port}/r?q`);
    await expect(curlHead(`http://127.0.0.1:${first}/r`)).rejects.toThrow();
    await running.stop();
    await expect(curlHead(`http://127.0.0.1:${second}/r`)).rejects.toThrow();
  });

  it('keeps answering after a reload that keeps its port, and stops when the key is removed', async () => {
    const app = await backend('app');
    const port = await freePort();
    const leaf = certs.issue('redirect-keep', ['proxy.test'], 90);
    const tls = `tls_cert=${leaf.certFile}\ntls_key=${leaf.keyFile}\n`;
    const sections = `[http]\nserver1=${app.address}\n`;
    const running = await proxy(sections, `${tls}redirect_http_port=${port}\n`);
    await running.proxy.reload(
      configFromIni(
        iniWith(sections, `${tls}tls_min_version=TLSv1.3\nredirect_http_port=${port}\n`),
      ),
    );
    const kept = await curlHead(`http://127.0.0.1:${port}/k?v=2`);
    expect(kept.status).toBe('308');
    expect(kept.location).toBe(`https://127.0.0.1:${running.proxy.address?.port}/k?v=2`);
    await running.proxy.reload(configFromIni(iniWith(sections, tls)));
    await expect(curlHead(`http://127.0.0.1:${port}/k`)).rejects.toThrow();
  });
});
