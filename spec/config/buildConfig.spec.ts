import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfigText } from '../../src/adapters/configFile';
import { expectConfig, problemLines } from '../helpers/configResult';

const fixture = (name: string) => readFileSync(join(__dirname, '..', 'fixtures', name), 'utf8');

const minimal = (extra: string) =>
  `[frontend]\nhost=127.0.0.1\nport=0\n[http]\nserver1=127.0.0.1:9001\n${extra}`;

describe('buildConfig', () => {
  it('accepts the original README example unchanged', () => {
    const config = expectConfig(
      parseConfigText(fixture('original-example.ini'), 'example.ini', {}),
    );
    expect(config.frontend).toEqual({
      host: 'rp_v11',
      port: 8080,
      logLevel: 'info',
      shutdownDelayMs: 0,
      watchConfig: false,
      workers: 1,
      drainTimeoutMs: 10_000,
      headerTimeoutMs: 10_000,
      bodyTimeoutMs: 60_000,
      maxBodySize: 0,
      trustedProxies: [],
      tlsCert: undefined,
      tlsKey: undefined,
      tlsCertDir: undefined,
      tlsMinVersion: 'TLSv1.2',
      certificates: [],
      redirectHttpPort: undefined,
      http2: true,
      h2MaxConcurrentStreams: 128,
    });
    expect(config.websocket?.algorithm).toBe('round-robin');
    expect(config.websocket?.servers.map((server) => server.address)).toEqual([
      'es1_hc:8080',
      'es2_hc:8080',
      'es3_hc:8080',
    ]);
    expect(config.http?.algorithm).toBe('random');
    expect(config.http?.enableHealthCheck).toBe(true);
    expect(config.http?.healthCheckIntervalMs).toBe(10_000);
    expect(config.http?.servers[0]).toEqual({
      name: 'server1',
      number: 1,
      host: 'es1_hc',
      port: 8080,
      address: 'es1_hc:8080',
      maxWorkers: 10,
      minWorkers: 3,
      workerTimeoutMs: 3000,
      bufferSize: 20,
      weight: 1,
    });
  });

  it('applies the original defaults', () => {
    const config = expectConfig(parseConfigText(minimal(''), 'f.ini', {}));
    expect(config.http).toMatchObject({
      algorithm: 'random',
      enableHealthCheck: false,
      healthCheckIntervalMs: 10_000,
      connectTimeoutMs: 5000,
      responseTimeoutMs: 60_000,
      queueTimeoutMs: 5000,
      retries: 1,
      preserveHost: true,
    });
    expect(config.http?.servers[0]).toMatchObject({
      maxWorkers: 3,
      minWorkers: 1,
      workerTimeoutMs: 3000,
      bufferSize: 10,
    });
    expect(config.websocket).toBeUndefined();
  });

  it('freezes the result', () => {
    const config = expectConfig(parseConfigText(minimal(''), 'f.ini', {}));
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.http?.servers[0])).toBe(true);
  });

  it('takes any server number, with gaps, ordered by number', () => {
    const config = expectConfig(
      parseConfigText(
        minimal('server10=127.0.0.1:9010\nserver3_addr=127.0.0.1:9003\n'),
        'f.ini',
        {},
      ),
    );
    expect(config.http?.servers.map((server) => server.name)).toEqual([
      'server1',
      'server3',
      'server10',
    ]);
  });

  it('uses section-level worker settings as defaults for every server', () => {
    const config = expectConfig(
      parseConfigText(
        minimal('max_workers=8\nserver2_addr=127.0.0.1:9002\nserver2_max_workers=4\n'),
        'f.ini',
        {},
      ),
    );
    expect(config.http?.servers.map((server) => server.maxWorkers)).toEqual([8, 4]);
  });

  it.each([
    ['500ms', 500],
    ['2s', 2000],
    ['1m', 60_000],
    ['2', 2000],
    ['0.25', 250],
  ])('reads the duration %s as %d ms', (text, ms) => {
    const config = expectConfig(
      parseConfigText(minimal(`response_timeout=${text}\n`), 'f.ini', {}),
    );
    expect(config.http?.responseTimeoutMs).toBe(ms);
  });

  it('expands ${VAR} and ${VAR|default}', () => {
    const text = '[frontend]\nhost=${HOST}\nport=${PORT|8081}\n[http]\nserver1=${BACKEND}:9001\n';
    const config = expectConfig(
      parseConfigText(text, 'f.ini', { HOST: '0.0.0.0', BACKEND: 'app' }),
    );
    expect(config.frontend).toMatchObject({ host: '0.0.0.0', port: 8081 });
    expect(config.http?.servers[0]?.host).toBe('app');
  });

  it('names a missing variable', () => {
    const result = parseConfigText(
      '[frontend]\nhost=${HOST}\nport=1\n[http]\nserver1=a:1\n',
      'f.ini',
      {},
    );
    expect(problemLines(result)).toEqual([
      'f.ini: [frontend] host: environment variable ${HOST} is not set and has no default (write ${NAME|default})',
    ]);
  });

  it('lists every problem, one line each, naming section and key', () => {
    expect(problemLines(parseConfigText(fixture('many-problems.ini'), 'bad.ini', {}))).toEqual([
      'bad.ini: [frontend] port: port 70000 is out of range (0-65535)',
      'bad.ini: [http] algorithm: unknown algorithm "fastest" (one of: round-robin, random, weighted-round-robin, least-connections, power-of-two, consistent-hash)',
      'bad.ini: [http] health_check_interval: "soon" is not a duration (use seconds, or a number with ms, s, m or h)',
      'bad.ini: [http] server2_buffer_size: 0 is too small (at least 1)',
      'bad.ini: [http] server3_max_worker: unknown key (did you mean server3_max_workers?)',
      'bad.ini: [http] server4_addr: "127.0.0.1" is not host:port',
      'bad.ini: [frontend] host: is required',
      'bad.ini: [http] server1_min_workers: min_workers (5) is greater than max_workers (2) for server1',
      'bad.ini: [http] server2: has settings but no address (add server2=host:port)',
      'bad.ini: [http] server3: has settings but no address (add server3=host:port)',
    ]);
  });

  it('checks the worker range of a server whose address is invalid or missing', () => {
    const text = minimal(
      'server2_addr=nowhere\nserver2_min_workers=5\nserver2_max_workers=2\n' +
        'server3_min_workers=4\nserver3_max_workers=1\n',
    );
    expect(problemLines(parseConfigText(text, 'f.ini', {}))).toEqual([
      'f.ini: [http] server2_addr: "nowhere" is not host:port',
      'f.ini: [http] server2_min_workers: min_workers (5) is greater than max_workers (2) for server2',
      'f.ini: [http] server3: has settings but no address (add server3=host:port)',
      'f.ini: [http] server3_min_workers: min_workers (4) is greater than max_workers (1) for server3',
    ]);
  });

  it.each([
    [
      'no pools',
      '[frontend]\nhost=a\nport=1\n',
      'f.ini: no [http], [websocket] or [route:NAME] section: there is nothing to proxy to',
    ],
    [
      'no frontend',
      '[http]\nserver1=a:1\n',
      'f.ini: [frontend]: missing section (host and port are required)',
    ],
    [
      'an unknown section',
      `${minimal('')}[htpp]\nx=1\n`,
      'f.ini: [htpp]: unknown section (did you mean http?)',
    ],
    [
      'a key outside sections',
      `stray=1\n${minimal('')}`,
      'f.ini: stray: key outside any section (put it under [frontend], [http], [websocket], [hooks] or [admin])',
    ],
    [
      'a pool without servers',
      '[frontend]\nhost=a\nport=1\n[websocket]\nalgorithm=random\n',
      'f.ini: [websocket]: no servers (add server1=host:port)',
    ],
    [
      'a repeated key',
      minimal('algorithm=random\nalgorithm=round-robin\n'),
      'f.ini: [http] algorithm: set again on line 7 (first on line 6); keep one',
    ],
    [
      'conflicting addresses',
      minimal('server1_addr=127.0.0.1:9002\n'),
      'f.ini: [http] server1_addr: conflicts with server1=127.0.0.1:9001',
    ],
    [
      'a negative count',
      minimal('server1_max_workers=-2\n'),
      'f.ini: [http] server1_max_workers: -2 is too small (at least 1)',
    ],
    [
      'a non-numeric count',
      minimal('buffer_size=lots\n'),
      'f.ini: [http] buffer_size: "lots" is not a whole number',
    ],
    [
      'a worker key in [websocket]',
      `${minimal('')}[websocket]\nserver1=a:1\nserver1_max_workers=3\n`,
      'f.ini: [websocket] server1_max_workers: unknown key',
    ],
    [
      'a bad log level',
      '[frontend]\nhost=a\nport=1\nlog_level=loud\n[http]\nserver1=a:1\n',
      'f.ini: [frontend] log_level: unknown log level "loud" (one of: fatal, error, warn, info, debug, trace, silent)',
    ],
    [
      'a misspelled server key, with the number it was written with',
      minimal('sever3_addr=127.0.0.1:9003\n'),
      'f.ini: [http] sever3_addr: unknown key (did you mean server3_addr?)',
    ],
    [
      'a bad boolean',
      minimal('enable_health_check=maybe\n'),
      'f.ini: [http] enable_health_check: "maybe" is not true or false',
    ],
  ])('reports %s', (_name, text, line) => {
    expect(problemLines(parseConfigText(text, 'f.ini', {}))).toEqual([line]);
  });

  it('accepts IPv6 addresses in brackets and hostnames with underscores', () => {
    const config = expectConfig(
      parseConfigText(minimal('server2=[::1]:9002\nserver3=es1_hc:80\n'), 'f.ini', {}),
    );
    expect(
      config.http?.servers.map((server) => [server.host, server.port, server.address]),
    ).toEqual([
      ['127.0.0.1', 9001, '127.0.0.1:9001'],
      ['::1', 9002, '[::1]:9002'],
      ['es1_hc', 80, 'es1_hc:80'],
    ]);
  });

  it('reads a scheme per server: https:// and wss:// are TLS in either pool, http:// and ws:// plain', () => {
    const config = expectConfig(
      parseConfigText(
        minimal(
          'server2=https://app.test:8443\nserver3=wss://[::1]\nserver4=http://a:80\n' +
            'server5=ws://b\ntls_servername=backend.test\ntls_verify=no\n',
        ),
        'f.ini',
        {},
      ),
    );
    const tls = { caFile: undefined, ca: undefined, servername: 'backend.test', verify: false };
    expect(config.http?.servers.map((server) => [server.address, server.tls])).toEqual([
      ['127.0.0.1:9001', undefined],
      ['app.test:8443', tls],
      ['[::1]:443', tls],
      ['a:80', undefined],
      ['b:80', undefined],
    ]);
  });

  it('reports serverN and serverN_addr that differ only in the scheme', () => {
    expect(
      problemLines(parseConfigText(minimal('server1_addr=https://127.0.0.1:9001\n'), 'f.ini', {})),
    ).toEqual(['f.ini: [http] server1_addr: conflicts with server1=127.0.0.1:9001']);
  });
});

describe('[frontend] workers', () => {
  const frontendWith = (line: string) =>
    parseConfigText(
      `[frontend]\nhost=127.0.0.1\nport=8080\n${line}\n[http]\nserver1=127.0.0.1:9001\n`,
      'workers.ini',
      {},
    );

  it.each([
    ['workers=4', 4],
    ['workers=auto', 'auto'],
    ['', 1],
  ])('reads %j as %p', (line, expected) => {
    expect(expectConfig(frontendWith(line)).frontend.workers).toBe(expected);
  });

  it.each(['workers=0', 'workers=two', 'workers=1000'])('rejects %j', (line) => {
    const result = frontendWith(line);
    expect(result.ok).toBe(false);
    if (!result.ok && 'problems' in result) {
      expect(result.problems.map((problem) => problem.key)).toEqual(['workers']);
    }
  });
});
