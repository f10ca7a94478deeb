import { join } from 'node:path';
import { parseConfigText } from '../../src/adapters/configFile';
import { reconcile } from '../../src/config';
import { expectConfig, problemLines } from '../helpers/configResult';
import { useTestCertificates, type IssuedCertificate } from '../helpers/testCertificates';

const certs = useTestCertificates();

const parse = (frontend: string) =>
  parseConfigText(
    `[frontend]\nhost=127.0.0.1\nport=0\n${frontend}\n[http]\nserver1=127.0.0.1:9\n`,
    join(certs.dir, 'proxy.ini'),
    {},
  );

let leaf: IssuedCertificate | undefined;

/** `[frontend]` keys for a readable certificate and key (the same for every test), plus `more`. */
function withTls(more = ''): string {
  leaf ??= certs.issue('front', ['proxy.test'], 90);
  return `tls_cert=${leaf.certFile}\ntls_key=${leaf.keyFile}\n${more}`;
}

describe('[frontend] http2 and h2_max_concurrent_streams', () => {
  it('offer HTTP/2 with 128 streams by default', () => {
    const { frontend } = expectConfig(parse(withTls()));
    expect(frontend.http2).toBe(true);
    expect(frontend.h2MaxConcurrentStreams).toBe(128);
  });

  it('reads http2 = false and a stream count', () => {
    const { frontend } = expectConfig(parse(withTls('http2=false\nh2_max_concurrent_streams=4')));
    expect(frontend.http2).toBe(false);
    expect(frontend.h2MaxConcurrentStreams).toBe(4);
  });

  it.each(['0', 'x', '-1', '1.5'])('lists h2_max_concurrent_streams = %s as a problem', (value) => {
    expect(problemLines(parse(withTls(`h2_max_concurrent_streams=${value}`)))).toEqual([
      expect.stringContaining('[frontend] h2_max_concurrent_streams:'),
    ]);
  });

  it('lists a http2 that is no boolean', () => {
    expect(problemLines(parse(withTls('http2=maybe')))).toEqual([
      expect.stringContaining('[frontend] http2:'),
    ]);
  });

  it('needs TLS for both keys, listed with the other problems at once', () => {
    const needsTls = (key: string): string =>
      expect.stringContaining(
        `[frontend] ${key}: needs TLS on the front door (tls_cert and tls_key, or tls_cert_dir)`,
      ) as string;
    expect(
      problemLines(
        parse(
          'http2=true\nh2_max_concurrent_streams=8\nredirect_http_port=8080\n' +
            'tls_min_version=TLSv1.3\nheader_timeout=soon',
        ),
      ),
    ).toEqual([
      expect.stringContaining('[frontend] header_timeout: "soon" is not a duration'),
      needsTls('redirect_http_port'),
      needsTls('tls_min_version'),
      needsTls('http2'),
      needsTls('h2_max_concurrent_streams'),
    ]);
    expect(problemLines(parse('http2=false'))).toEqual([needsTls('http2')]);
  });

  it('lists a bad stream count once, not also as needing TLS', () => {
    expect(problemLines(parse('h2_max_concurrent_streams=0'))).toEqual([
      expect.stringContaining('[frontend] h2_max_concurrent_streams: 0 is too small (at least 1)'),
    ]);
  });
});

describe('a reload changing HTTP/2 settings', () => {
  it.each([
    ['http2', '', 'http2=false', ['http2']],
    [
      'h2_max_concurrent_streams',
      '',
      'h2_max_concurrent_streams=16',
      ['h2_max_concurrent_streams'],
    ],
    [
      'both',
      'http2=false\nh2_max_concurrent_streams=4',
      'h2_max_concurrent_streams=8',
      ['http2', 'h2_max_concurrent_streams'],
    ],
  ])('rebinds the front door for %s', (_name, before, after, keys) => {
    const running = expectConfig(parse(withTls(before)));
    const next = expectConfig(parse(withTls(after)));
    expect(reconcile(running, next).frontend).toEqual({ keys, rebind: true });
  });

  it('does not rebind when the same values are written out', () => {
    const running = expectConfig(parse(withTls()));
    const next = expectConfig(parse(withTls('http2=true\nh2_max_concurrent_streams=128')));
    expect(reconcile(running, next).frontend).toEqual({ keys: [], rebind: false });
  });
});
