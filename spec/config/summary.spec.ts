import { parseConfigText } from '../../src/adapters/configFile';
import { describeConfig } from '../../src/summary';
import { expectConfig } from '../helpers/configResult';

const summary = (frontend: string, hooks: string) =>
  describeConfig(
    expectConfig(
      parseConfigText(
        `[frontend]\nhost=a\nport=1\n${frontend}\n[http]\nserver1=a:1\n[hooks]\n${hooks}`,
        '/etc/rxproxy/proxy.ini',
        {},
      ),
    ),
  ).split('\n');

describe('describeConfig', () => {
  it('names the admin listener and whether it needs a token, never the token', () => {
    const lines = summary('', '\n[admin]\nport=9901\ntoken=do-not-print-me');
    expect(lines.at(-1)).toBe('admin 127.0.0.1:9901, token required');
    expect(lines.join('\n')).not.toContain('do-not-print-me');
    expect(summary('', '').some((line) => line.startsWith('admin'))).toBe(false);
  });

  it('lists every named pool and every route', () => {
    const text = `[frontend]\nhost=a\nport=1\n[pool:api]\nserver1=a:1\n[pool:chat]\nserver1=b:1
[route:api]\nhost=api.example.com\npath_prefix=/v1\nstrip_path_prefix=true\npool=api\nwebsocket_pool=chat
[route:rest]\npool=api\npriority=-1`;
    const lines = describeConfig(expectConfig(parseConfigText(text, 'proxy.ini', {}))).split('\n');
    expect(lines.filter((line) => line.startsWith('[') || line.startsWith('route'))).toEqual([
      '[pool:api] random, no health checks, 1 server(s):',
      '[pool:chat] random, no health checks, 1 server(s):',
      'route api: host api.example.com, path /v1 (stripped) -> api, upgrades -> chat',
      'route rest: priority -1 -> api',
    ]);
  });

  it('names the sticky cookie of a pool that has one', () => {
    const text = `[frontend]\nhost=a\nport=1\n[http]\nalgorithm=round-robin\nsticky=cookie\nserver1=a:1`;
    const lines = describeConfig(expectConfig(parseConfigText(text, 'proxy.ini', {}))).split('\n');
    expect(lines).toContain(
      '[http] round-robin, sticky cookie rxproxy_server, no health checks, 1 server(s):',
    );
  });

  it.each([
    ['workers=4', 'frontend a:1, log level info, drain 10s, workers 4'],
    ['workers=auto', 'frontend a:1, log level info, drain 10s, workers auto'],
    ['', 'frontend a:1, log level info, drain 10s'],
  ])('names the worker processes (%j)', (line, expected) => {
    const text = `[frontend]\nhost=a\nport=1\n${line}\n[http]\nserver1=a:1`;
    const lines = describeConfig(expectConfig(parseConfigText(text, 'proxy.ini', {}))).split('\n');
    expect(lines[1]).toBe(expected);
  });

  it('names the TLS servers with their CA file, server name and unchecked certificates', () => {
    const text =
      `[frontend]\nhost=a\nport=1\n[websocket]\ntls_servername=backend.test\ntls_verify=false\n` +
      `server1=wss://a:1\nserver2=a:2`;
    const lines = describeConfig(expectConfig(parseConfigText(text, 'proxy.ini', {}))).split('\n');
    expect(lines.slice(-2)).toEqual([
      '  server1 a:1 TLS servername backend.test certificate NOT verified',
      '  server2 a:2',
    ]);
  });

  it('mentions no hooks when every one is off', () => {
    expect(summary('', 'hook_timeout=3').filter((line) => line.startsWith('hooks'))).toEqual([]);
  });

  it('names the hooks that are on in one line', () => {
    const lines = summary(
      'trusted_proxies=10.0.0.0/8, ::1',
      [
        'module=hooks.js',
        'request_id=true',
        'allow_from=192.168.0.0/16',
        'rate_limit=100/s',
        'rate_limit_key=header:X-Key',
        'strip_prefix=/api',
        'request_header1=X-A: b',
        'response_header1=Server:',
        'response_header2=X-B: c',
      ].join('\n'),
    );
    expect(lines[1]).toBe(
      'frontend a:1, log level info, drain 10s, trusted proxies 10.0.0.0/8 ::1',
    );
    expect(lines.filter((line) => line.startsWith('hooks'))).toEqual([
      'hooks: module /etc/rxproxy/hooks.js (timeout 5s), request ids in x-request-id, ' +
        'allow from 192.168.0.0/16, rate limit 100/s per header:x-key (burst 100), ' +
        'strip prefix /api, 1 request header edit(s), 2 response header edit(s)',
    ]);
  });
});
