import { connect as connectHttp2, type Settings } from 'node:http2';
import { connect as connectTls } from 'node:tls';
import { useHarness } from '../helpers/harness';
import { eventsOf, type RunningProxy } from '../helpers/proxy';
import { reloadIni } from '../helpers/reload';
import { useTestCertificates } from '../helpers/testCertificates';

const certs = useTestCertificates();

/** The port the front door listens on now (a rebind to port 0 takes a new one). */
function portOf(running: RunningProxy): number {
  const port = running.proxy.address?.port;
  if (port === undefined) throw new Error('the proxy is not listening');
  return port;
}

/** The protocol ALPN picks for a client offering h2 and http/1.1. */
function alpn(port: number): Promise<string | false> {
  return new Promise((resolve, reject) => {
    const socket = connectTls({
      host: '127.0.0.1',
      port,
      ca: certs.ca.cert,
      servername: 'proxy.test',
      ALPNProtocols: ['h2', 'http/1.1'],
    });
    socket.once('secureConnect', () => {
      resolve(socket.alpnProtocol ?? false);
      socket.destroy();
    });
    socket.once('error', reject);
  });
}

/** SETTINGS_MAX_CONCURRENT_STREAMS the front door announces. */
async function maxConcurrentStreams(port: number): Promise<number | undefined> {
  const session = connectHttp2(`https://127.0.0.1:${port}`, {
    ca: certs.ca.cert,
    servername: 'proxy.test',
  });
  try {
    return await new Promise((resolve, reject) => {
      session.once('error', reject);
      session.once('remoteSettings', (settings: Settings) =>
        resolve(settings.maxConcurrentStreams),
      );
    });
  } finally {
    session.close();
  }
}

describe('a reload of the HTTP/2 settings', () => {
  const { backend, proxy } = useHarness();

  it('rebinds the front door with HTTP/2 off, then on with another stream limit', async () => {
    const app = await backend('app');
    const leaf = certs.issue('reload-h2', ['proxy.test'], 90);
    const sections = `[http]\nserver1=${app.address}\n`;
    const tls = `tls_cert=${leaf.certFile}\ntls_key=${leaf.keyFile}\n`;
    const running = await proxy(sections, tls);
    expect(await alpn(portOf(running))).toBe('h2');
    expect(await maxConcurrentStreams(portOf(running))).toBe(128);

    await reloadIni(running, sections, `${tls}http2=false\n`);
    expect(await alpn(portOf(running))).toBe('http/1.1');

    await reloadIni(running, sections, `${tls}h2_max_concurrent_streams=4\n`);
    expect(await alpn(portOf(running))).toBe('h2');
    expect(await maxConcurrentStreams(portOf(running))).toBe(4);
    expect(eventsOf(running, 'listening')).toHaveLength(3);
  });
});
