import { buildConfig } from '../../src/config/buildConfig';
import type { PoolConfig } from '../../src/config';
import { cookieValues, StickyCookie, stickyValue } from '../../src/forwarding/stickyCookie';

function poolOf(lines: Record<string, string>): PoolConfig {
  const result = buildConfig(
    { frontend: { host: '127.0.0.1', port: '0' }, http: { sticky: 'cookie', ...lines } },
    'test.ini',
    {},
  );
  if (!result.ok || !result.config.http) throw new Error(JSON.stringify(result));
  return result.config.http;
}

const A = '10.0.0.1:8080';
const B = '10.0.0.2:8080';
const twoServers = poolOf({ server1: A, server2: B });
const a = stickyValue(A);
const b = stickyValue(B);
const all = () => true;

describe('stickyValue', () => {
  it('is opaque and the same for an address on every proxy and in every pool', () => {
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    expect(a).not.toContain('10.0.0.1');
    expect(stickyValue(A)).toBe(a);
    expect(b).not.toBe(a);
  });
});

describe('cookieValues', () => {
  it.each([
    [undefined, []],
    ['', []],
    ['other=1', []],
    ['rxproxy_server=x', ['x']],
    ['a=1; rxproxy_server=x ; b=2', ['x']],
    ['rxproxy_server=x; rxproxy_server=y', ['x', 'y']],
    ['my_rxproxy_server=x', []],
  ])('%p gives %p', (header, values) => {
    expect(cookieValues(header, 'rxproxy_server')).toEqual(values);
  });
});

describe('StickyCookie.choose', () => {
  const sticky = new StickyCookie(twoServers);
  const onlyServer1 = (server: string) => server === 'server1';
  it.each([
    ['no cookie', undefined, all, { server: undefined, value: undefined }],
    ['a valid cookie', `rxproxy_server=${b}`, all, { server: 'server2', value: b }],
    ['an unknown value', 'rxproxy_server=forged', all, { server: undefined, value: undefined }],
    [
      'its server out of rotation',
      `rxproxy_server=${b}`,
      onlyServer1,
      { server: undefined, value: b },
    ],
    [
      'a stale value first, then a valid one',
      `rxproxy_server=zz; rxproxy_server=${a}`,
      all,
      { server: 'server1', value: a },
    ],
  ])('%s', (_case, header, isInRotation, expected) => {
    expect(sticky.choose(header, isInRotation)).toEqual(expected);
  });

  it('a server gone from the config counts as no cookie', () => {
    const withoutServer2 = new StickyCookie(poolOf({ server1: A }));
    expect(withoutServer2.choose(`rxproxy_server=${b}`, all)).toEqual({
      server: undefined,
      value: undefined,
    });
  });

  it('reads the cookie named by sticky_cookie', () => {
    const named = new StickyCookie(poolOf({ server1: A, sticky_cookie: 'lb' }));
    expect(named.choose(`rxproxy_server=${a}`, all).server).toBeUndefined();
    expect(named.choose(`lb=${a}`, all).server).toBe('server1');
  });
});

describe('StickyCookie.setCookie', () => {
  const sticky = new StickyCookie(twoServers);
  it('pins a client whose cookie named no server, or another one', () => {
    const expected = `rxproxy_server=${a}; Path=/; HttpOnly; SameSite=Lax`;
    expect(sticky.setCookie(A, undefined, false)).toBe(expected);
    expect(sticky.setCookie(A, b, false)).toBe(expected);
  });

  it('sets nothing when the cookie already names the server that served', () => {
    expect(sticky.setCookie(A, a, false)).toBeUndefined();
  });

  it('is Secure over TLS, and carries Max-Age and Path when configured', () => {
    expect(sticky.setCookie(A, undefined, true)).toBe(
      `rxproxy_server=${a}; Path=/; HttpOnly; SameSite=Lax; Secure`,
    );
    const configured = new StickyCookie(
      poolOf({ server1: A, sticky_cookie_max_age: '1h', sticky_cookie_path: '/app' }),
    );
    expect(configured.setCookie(A, undefined, false)).toBe(
      `rxproxy_server=${a}; Path=/app; Max-Age=3600; HttpOnly; SameSite=Lax`,
    );
  });
});

describe('sticky keys', () => {
  it.each([
    ['sticky', 'always', 'unknown sticky mode'],
    ['sticky_cookie', 'a b', 'not a cookie name'],
    ['sticky_cookie_max_age', '1.5', 'whole seconds'],
    ['sticky_cookie_max_age', '0', 'greater than 0'],
    ['sticky_cookie_path', 'app', 'not a cookie path'],
    ['sticky_cookie_path', '/a;b', 'not a cookie path'],
  ])('%s=%s is a listed problem', (key, value, message) => {
    const result = buildConfig(
      { frontend: { host: '127.0.0.1', port: '0' }, http: { server1: A, [key]: value } },
      'test.ini',
      {},
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]).toMatchObject({ section: 'http', key });
    expect(result.problems[0]?.message).toContain(message);
  });

  it('defaults: none, rxproxy_server, a session cookie, /', () => {
    const result = buildConfig(
      { frontend: { host: '127.0.0.1', port: '0' }, http: { server1: A } },
      'test.ini',
      {},
    );
    expect(result.ok && result.config.http).toEqual(
      expect.objectContaining({
        sticky: 'none',
        stickyCookie: 'rxproxy_server',
        stickyCookieMaxAgeMs: undefined,
        stickyCookiePath: '/',
      }),
    );
  });
});
