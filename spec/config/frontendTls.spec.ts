import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfigText } from '../../src/adapters/configFile';
import { expiryWarning } from '../../src/adapters/frontCertificates';
import { expectConfig, problemLines } from '../helpers/configResult';
import { createTestCertificates, type TestCertificates } from '../helpers/testCertificates';

let certs: TestCertificates;
beforeAll(() => {
  certs = createTestCertificates();
});
afterAll(() => certs.remove());

const parse = (frontend: string) =>
  parseConfigText(
    `[frontend]\nhost=127.0.0.1\nport=0\n${frontend}\n[http]\nserver1=127.0.0.1:9\n`,
    join(certs.dir, 'proxy.ini'),
    {},
  );

describe('[frontend] tls_* keys', () => {
  it('reads tls_cert and tls_key (relative to the file), TLSv1.2 by default, and the names', () => {
    const leaf = certs.issue('front', ['proxy.test', '*.apps.test'], 90);
    const config = expectConfig(parse(`tls_cert=front.pem\ntls_key=front.key`));
    expect(config.frontend.tlsCert).toBe(leaf.certFile);
    expect(config.frontend.tlsMinVersion).toBe('TLSv1.2');
    expect(config.frontend.certificates).toEqual([
      expect.objectContaining({
        name: 'tls_cert',
        hostnames: ['proxy.test', '*.apps.test'],
        keyFile: leaf.keyFile,
      }),
    ]);
  });

  it('lists missing files, tls_cert without tls_key and a bad tls_min_version, all at once', () => {
    expect(problemLines(parse(`tls_cert=nothing.pem`))).toEqual([
      expect.stringContaining('[frontend] tls_key: is required with tls_cert'),
    ]);
    const lines = problemLines(
      parse(`tls_cert=nothing.pem\ntls_key=nokey.pem\ntls_min_version=TLSv1.0`),
    );
    expect(lines).toEqual([
      expect.stringMatching(/\[frontend\] tls_min_version: unknown TLS version "TLSv1.0"/),
      expect.stringMatching(/\[frontend\] tls_cert: cannot read .*nothing\.pem: ENOENT/),
      expect.stringMatching(/\[frontend\] tls_cert: cannot read .*nokey\.pem: ENOENT/),
    ]);
  });

  it('says when the key is not the certificate’s', () => {
    const one = certs.issue('one', ['one.test'], 90);
    const other = certs.issue('other', ['other.test'], 90);
    expect(problemLines(parse(`tls_cert=${one.certFile}\ntls_key=${other.keyFile}`))).toEqual([
      expect.stringContaining(`tls_cert: ${other.keyFile} is not the key of the certificate`),
    ]);
  });

  it('rejects an expired certificate with its date', () => {
    const old = certs.expired('old', ['old.test']);
    expect(problemLines(parse(`tls_cert=${old.certFile}\ntls_key=${old.keyFile}`))).toEqual([
      expect.stringContaining('the certificate expired on 2020-01-02T00:00:00.000Z'),
    ]);
  });

  it('reads tls_cert_dir pairs by name and says which certificate has no key', () => {
    const a = certs.issue('dir-a', ['a.test'], 90);
    const dir = join(certs.dir, 'pairs');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'b.crt'), a.cert);
    writeFileSync(join(dir, 'b.key'), a.key);
    writeFileSync(join(dir, 'a.crt'), a.cert);
    writeFileSync(join(dir, 'a.key'), a.key);
    const config = expectConfig(parse(`tls_cert_dir=pairs`));
    expect(config.frontend.certificates.map((c) => c.name)).toEqual(['a', 'b']);
    writeFileSync(join(dir, 'c.crt'), a.cert);
    expect(problemLines(parse(`tls_cert_dir=pairs`))).toEqual([
      expect.stringMatching(/tls_cert_dir: .*c\.crt has no c\.key beside it/),
    ]);
  });

  it('needs TLS for redirect_http_port and tls_min_version', () => {
    expect(problemLines(parse(`redirect_http_port=8080\ntls_min_version=TLSv1.3`))).toEqual([
      expect.stringContaining('[frontend] redirect_http_port: needs TLS on the front door'),
      expect.stringContaining('[frontend] tls_min_version: needs TLS on the front door'),
    ]);
  });
});

describe('expiryWarning', () => {
  const now = Date.parse('2030-01-01T00:00:00Z');
  const at = (validTo: string) =>
    expiryWarning({ name: 'tls_cert', certFile: '/c.pem', validTo }, now);

  it('warns with the date and the days left within 30 days, not before', () => {
    expect(at('2030-01-20T00:00:00.000Z')).toEqual({
      type: 'certificate-expiring',
      name: 'tls_cert',
      certFile: '/c.pem',
      validTo: '2030-01-20T00:00:00.000Z',
      daysLeft: 19,
    });
    expect(at('2030-01-30T23:00:00.000Z')).toMatchObject({ daysLeft: 29 });
    expect(at('2030-01-31T00:00:00.000Z')).toBeUndefined();
  });
});
