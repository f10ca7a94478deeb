import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { connect, type TLSSocket } from 'node:tls';
import { useHarness } from '../helpers/harness';
import { eventsOf } from '../helpers/proxy';
import { useTestCertificates, type IssuedCertificate } from '../helpers/testCertificates';
import { sleep, waitUntil } from '../helpers/waitUntil';

const certs = useTestCertificates();

const CHUNKS = 30;
const CHUNK_MS = 100;
const chunk = (index: number) => `${String(index).padStart(4, '0')}:${'x'.repeat(1019)}\n`;

/** A download of CHUNKS KiB, one every CHUNK_MS (about 3 s in all). */
const trickle = (_req: IncomingMessage, res: ServerResponse) => {
  res.writeHead(200, { 'content-type': 'text/plain' });
  let sent = 0;
  const timer = setInterval(() => {
    res.write(chunk(sent));
    sent += 1;
    if (sent === CHUNKS) {
      clearInterval(timer);
      res.end();
    }
  }, CHUNK_MS);
  res.on('close', () => clearInterval(timer));
};

/** The fingerprint of the certificate a new TLS connection to `port` is shown. */
function peerFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(
      {
        host: '127.0.0.1',
        port,
        servername: 'proxy.test',
        ca: certs.ca.cert,
        checkServerIdentity: () => undefined,
      },
      () => {
        const fingerprint = socket.getPeerCertificate().fingerprint256;
        socket.end();
        resolve(fingerprint);
      },
    );
    socket.on('error', reject);
  });
}

/** Polls new connections until they are shown `fingerprint`, for at most 5 s. */
async function waitForFingerprint(port: number, fingerprint: string): Promise<void> {
  const deadline = Date.now() + 5000;
  let seen = await peerFingerprint(port);
  while (seen !== fingerprint) {
    if (Date.now() > deadline) throw new Error(`still shown ${seen}, not ${fingerprint}`);
    await sleep(100);
    seen = await peerFingerprint(port);
  }
}

/** The fingerprint of a PEM certificate, as a peer sees it. */
const fingerprintOf = (issued: IssuedCertificate) =>
  new X509Certificate(issued.cert).fingerprint256;

/** Replaces `target` with a copy of `source` in one rename, as renewal tools do. */
function replaceFile(source: string, target: string): void {
  copyFileSync(source, `${target}.new`);
  renameSync(`${target}.new`, target);
}

describe('front-door certificate reload', () => {
  const harness = useHarness();
  const { backend, proxy } = harness;

  /** A folder with `cert.pem` and `key.pem` copied from `issued`. */
  const installed = (folder: string, issued: IssuedCertificate) => {
    const dir = join(certs.dir, folder);
    mkdirSync(dir, { recursive: true });
    const certFile = join(dir, 'cert.pem');
    const keyFile = join(dir, 'key.pem');
    copyFileSync(issued.certFile, certFile);
    copyFileSync(issued.keyFile, keyFile);
    return { certFile, keyFile };
  };

  /** The proxy in front of `address` with the certificate files `certFile` and `keyFile`. */
  const proxyWith = (address: string, certFile: string, keyFile: string) =>
    proxy(`[http]\nserver1=${address}\n`, `tls_cert=${certFile}\ntls_key=${keyFile}\n`);

  it('loads a renewal for new connections while a long download finishes on the old one', async () => {
    const app = await backend('app', trickle);
    const old = certs.issue('reload-old', ['proxy.test'], 90);
    const renewed = certs.issue('reload-new', ['proxy.test'], 90);
    const files = installed('renewal', old);
    const running = await proxyWith(app.address, files.certFile, files.keyFile);
    const port = running.address.port;
    const [oldPrint, newPrint] = [fingerprintOf(old), fingerprintOf(renewed)];
    expect(oldPrint).not.toBe(newPrint);
    expect(await peerFingerprint(port)).toBe(oldPrint);

    let downloadPrint = '';
    const download = new Promise<string>((resolve, reject) => {
      const req = httpsRequest(
        {
          host: '127.0.0.1',
          port,
          servername: 'proxy.test',
          ca: certs.ca.cert,
          path: '/download',
          agent: false,
        },
        (res) => {
          const socket = res.socket as TLSSocket;
          downloadPrint = socket.getPeerCertificate().fingerprint256;
          const parts: Buffer[] = [];
          res.on('data', (part: Buffer) => parts.push(part));
          res.on('end', () => resolve(Buffer.concat(parts).toString()));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end();
    });
    await sleep(300);
    replaceFile(renewed.certFile, files.certFile);
    replaceFile(renewed.keyFile, files.keyFile);
    await waitForFingerprint(port, newPrint);

    const body = await download;
    expect(body).toBe(Array.from({ length: CHUNKS }, (_, index) => chunk(index)).join(''));
    expect(downloadPrint).toBe(oldPrint);
    expect(eventsOf(running, 'certificate-reload')).toEqual([
      expect.objectContaining({ outcome: 'reloaded', name: 'tls_cert', certFile: files.certFile }),
    ]);
  });

  it('keeps the old certificate when the renewal is broken, and says so', async () => {
    const app = await backend('app');
    const old = certs.issue('broken-old', ['proxy.test'], 90);
    const files = installed('broken', old);
    const running = await proxyWith(app.address, files.certFile, files.keyFile);
    const port = running.address.port;
    const oldPrint = fingerprintOf(old);
    writeFileSync(`${files.certFile}.new`, 'not a certificate\n');
    renameSync(`${files.certFile}.new`, files.certFile);
    await waitUntil(() => eventsOf(running, 'certificate-reload').length > 0, 'a reload event');
    const [event] = eventsOf(running, 'certificate-reload');
    expect(event).toMatchObject({ outcome: 'failed', name: 'tls_cert', certFile: files.certFile });
    expect(event?.errors?.length).toBeGreaterThan(0);
    expect(await peerFingerprint(port)).toBe(oldPrint);
    // The broken files are reported once, not on every poll.
    await sleep(2200);
    expect(eventsOf(running, 'certificate-reload')).toHaveLength(1);
    expect(await peerFingerprint(port)).toBe(oldPrint);
  });

  it('follows symlinks: a renewal by swapping the live/ links is loaded', async () => {
    const app = await backend('app');
    const old = certs.issue('link-old', ['proxy.test'], 90);
    const renewed = certs.issue('link-new', ['proxy.test'], 90);
    const root = join(certs.dir, 'letsencrypt');
    const archive = join(root, 'archive');
    const live = join(root, 'live');
    mkdirSync(archive, { recursive: true });
    mkdirSync(live, { recursive: true });
    const archived = (issued: IssuedCertificate, generation: number) => {
      copyFileSync(issued.certFile, join(archive, `cert${generation}.pem`));
      copyFileSync(issued.keyFile, join(archive, `privkey${generation}.pem`));
    };
    /** Points live/NAME at archive/NAME<generation> in one rename, as certbot does. */
    const link = (name: string, generation: number) => {
      const target = join(live, name);
      symlinkSync(`../archive/${name.replace('.pem', '')}${generation}.pem`, `${target}.new`);
      renameSync(`${target}.new`, target);
    };
    archived(old, 1);
    link('cert.pem', 1);
    link('privkey.pem', 1);
    const running = await proxyWith(app.address, join(live, 'cert.pem'), join(live, 'privkey.pem'));
    const port = running.address.port;
    expect(await peerFingerprint(port)).toBe(fingerprintOf(old));
    archived(renewed, 2);
    link('cert.pem', 2);
    link('privkey.pem', 2);
    await waitForFingerprint(port, fingerprintOf(renewed));
    expect(eventsOf(running, 'certificate-reload')).toEqual([
      expect.objectContaining({ outcome: 'reloaded', name: 'tls_cert' }),
    ]);
  });
});
