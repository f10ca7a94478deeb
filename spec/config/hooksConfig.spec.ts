import { parseConfigText } from '../../src/adapters/configFile';
import { expectConfig, problemLines } from '../helpers/configResult';
import { cidrMatcher } from '../../src/net/cidr';

const withHooks = (hooks: string, frontend = '') =>
  `[frontend]\nhost=127.0.0.1\nport=0\n${frontend}\n[http]\nserver1=127.0.0.1:9001\n[hooks]\n${hooks}`;

describe('[hooks] and trusted_proxies', () => {
  it('turns every hook off by default, with or without the section', () => {
    const expected = {
      module: undefined,
      hookTimeoutMs: 5000,
      requestId: false,
      requestIdHeader: 'x-request-id',
      allowFrom: [],
      rateLimit: undefined,
      stripPrefix: undefined,
      requestHeaders: [],
      responseHeaders: [],
    };
    const text = '[frontend]\nhost=a\nport=1\n[http]\nserver1=a:1\n';
    const withoutSection = expectConfig(parseConfigText(text, 'f.ini', {}));
    expect(withoutSection.hooks).toEqual(expected);
    expect(withoutSection.frontend.trustedProxies).toEqual([]);
    expect(expectConfig(parseConfigText(withHooks(''), 'f.ini', {})).hooks).toEqual(expected);
  });

  it('reads every key', () => {
    const config = expectConfig(
      parseConfigText(
        withHooks(
          [
            'module=/opt/hooks/index.js',
            'hook_timeout=250ms',
            'request_id=yes',
            'request_id_header=X-Trace-Id',
            'allow_from=10.0.0.0/8, ::1',
            'rate_limit=600/m',
            'rate_limit_burst=20',
            'rate_limit_key=header:X-Api-Key',
            'rate_limit_keys=500',
            'strip_prefix=/api',
            'request_header10=X-Second: b',
            'request_header2=X-Env: prod',
            'response_header1=Server:',
            'response_header3 = X-Frame-Options : DENY',
          ].join('\n'),
          'trusted_proxies=127.0.0.1, 192.168.0.0/16',
        ),
        'f.ini',
        {},
      ),
    );
    expect(config.hooks).toMatchObject({
      module: '/opt/hooks/index.js',
      hookTimeoutMs: 250,
      requestId: true,
      requestIdHeader: 'x-trace-id',
      rateLimit: {
        text: '600/m',
        tokensPerSecond: 10,
        burst: 20,
        key: { source: 'header', name: 'x-api-key' },
        maxKeys: 500,
      },
      stripPrefix: '/api',
      requestHeaders: [
        ['x-env', 'prod'],
        ['x-second', 'b'],
      ],
      responseHeaders: [
        ['server', ''],
        ['x-frame-options', 'DENY'],
      ],
    });
    expect(config.hooks.allowFrom.map((range) => range.text)).toEqual(['10.0.0.0/8', '::1']);
    const trusted = cidrMatcher(config.frontend.trustedProxies);
    expect(['127.0.0.1', '192.168.4.4', '::ffff:192.168.0.1', '10.0.0.1'].map(trusted)).toEqual([
      true,
      true,
      true,
      false,
    ]);
    expect(Object.isFrozen(config.hooks.requestHeaders[0])).toBe(true);
  });

  it.each([
    ['100/s', 100, 100],
    ['600/m', 10, 600],
    ['1/m', 1 / 60, 1],
  ])('rate_limit=%s is %d per second with a default burst of %d', (rate, perSecond, burst) => {
    const config = expectConfig(parseConfigText(withHooks(`rate_limit=${rate}`), 'f.ini', {}));
    expect(config.hooks.rateLimit).toEqual({
      text: rate,
      tokensPerSecond: perSecond,
      burst,
      key: { source: 'ip' },
      maxKeys: 100_000,
    });
  });

  it.each([
    ['f.ini', 'hooks.js', './hooks.js'],
    ['conf/proxy.ini', 'hooks/index.js', './conf/hooks/index.js'],
    ['./conf/proxy.ini', './hooks.js', './conf/hooks.js'],
    ['conf/proxy.ini', '../../shared/hooks.js', '../shared/hooks.js'],
    ['/etc/rxproxy/proxy.ini', 'hooks.js', '/etc/rxproxy/hooks.js'],
    ['/etc/rxproxy/proxy.ini', '../hooks/a.js', '/etc/hooks/a.js'],
    ['/etc/rxproxy/proxy.ini', '/opt/a.js', '/opt/a.js'],
    ['/proxy.ini', '../../a.js', '/a.js'],
  ])('module in %s written %s is %s', (file, written, resolved) => {
    const config = expectConfig(parseConfigText(withHooks(`module=${written}`), file, {}));
    expect(config.hooks.module).toBe(resolved);
  });

  it('lists every problem with its file, section and key', () => {
    const text = withHooks(
      [
        'hook_timeout=0',
        'request_id=maybe',
        'request_id_header=X Id',
        'allow_from=10.0.0.0/33, 10.0.0.1, 1.2.3, ::g',
        'rate_limit=0/s',
        'rate_limit_burst=0',
        'rate_limit_key=cookie:a',
        'rate_limit_keys=none',
        'strip_prefix=/api/',
        'request_header1=X-Env',
        'request_header2=Bad Name: x',
        'response_header1=X-Ok: fine',
        'rate_limt=1/s',
        'request_headr4=X-A: b',
        'request_header=X-A: b',
        'server1=127.0.0.1:1',
      ].join('\n'),
      'trusted_proxies=192.168.1.0/24, 192.168.1.300',
    );
    expect(problemLines(parseConfigText(text, 'p.ini', {}))).toEqual([
      'p.ini: [frontend] trusted_proxies: "192.168.1.300" is not an IP address or CIDR range',
      'p.ini: [hooks] hook_timeout: "0" must be greater than 0',
      'p.ini: [hooks] request_id: "maybe" is not true or false',
      'p.ini: [hooks] request_id_header: "X Id" is not a header name (letters, digits and !#$%&\'*+-.^_`|~)',
      'p.ini: [hooks] allow_from: "10.0.0.0/33": prefix /33 is above 32',
      'p.ini: [hooks] allow_from: "1.2.3" is not an IP address or CIDR range',
      'p.ini: [hooks] allow_from: "::g" is not an IP address or CIDR range',
      'p.ini: [hooks] rate_limit: "0/s" allows nothing (leave rate_limit empty to turn it off)',
      'p.ini: [hooks] rate_limit_burst: 0 is too small (at least 1)',
      'p.ini: [hooks] rate_limit_key: "cookie:a" is not ip or header:NAME',
      'p.ini: [hooks] rate_limit_keys: "none" is not a whole number',
      'p.ini: [hooks] strip_prefix: "/api/" ends with / (write /api for /api and /api/...; / strips nothing)',
      'p.ini: [hooks] request_header1: "X-Env" is not Name: value (Name: alone removes the header)',
      'p.ini: [hooks] request_header2: "Bad Name" is not a header name (letters, digits and !#$%&\'*+-.^_`|~)',
      'p.ini: [hooks] rate_limt: unknown key (did you mean rate_limit?)',
      'p.ini: [hooks] request_headr4: unknown key (did you mean request_header4?)',
      'p.ini: [hooks] request_header: unknown key (did you mean request_header1?)',
      'p.ini: [hooks] server1: unknown key',
    ]);
  });

  it.each([
    ['rate_limit=100', '"100" is not a rate (write requests per second or minute: 100/s, 600/m)'],
    [
      'rate_limit=100/h',
      '"100/h" is not a rate (write requests per second or minute: 100/s, 600/m)',
    ],
    ['strip_prefix=api', '"api" is not a path starting with /'],
    ['strip_prefix=/', '"/" ends with / (write /api for /api and /api/...; / strips nothing)'],
    ['strip_prefix=/a?b', '"/a?b" is not a path starting with /'],
  ])('refuses %s', (line, message) => {
    const key = line.slice(0, line.indexOf('='));
    expect(problemLines(parseConfigText(withHooks(line), 'p.ini', {}))).toEqual([
      `p.ini: [hooks] ${key}: ${message}`,
    ]);
  });

  it('reads a quoted header line with a semicolon whole', () => {
    const line = 'response_header1="Cache-Control: no-store; max-age=0"';
    const config = expectConfig(parseConfigText(withHooks(line), 'f.ini', {}));
    expect(config.hooks.responseHeaders).toEqual([['cache-control', 'no-store; max-age=0']]);
  });

  it('takes an empty value as not set', () => {
    const config = expectConfig(
      parseConfigText(withHooks('module=\nrate_limit=\nstrip_prefix=\nallow_from='), 'f.ini', {}),
    );
    expect(config.hooks).toMatchObject({
      module: undefined,
      rateLimit: undefined,
      stripPrefix: undefined,
      allowFrom: [],
    });
  });
});
