import { RouteTable, hostOf, routeTies, type RouteRule } from '../../src/routing/routeTable';
import { route } from '../helpers/routeRules';

const matchName = (routes: RouteRule[], host: string | undefined, path: string) =>
  new RouteTable(routes).match(host, path)?.route.name;

describe('RouteTable', () => {
  const routes = [
    route('api', ['api.example.com']),
    route('api-v2', ['api.example.com'], '/v2'),
    route('apps', ['*.example.com']),
    route('deep-apps', ['*.apps.example.com']),
    route('ws', [], '/ws'),
    route('static', [], '/static/img'),
    route('default', []),
  ];

  it.each([
    ['api.example.com', '/', 'api'],
    ['API.Example.COM', '/x', 'api'],
    ['api.example.com:8443', '/x', 'api'],
    ['api.example.com.', '/x', 'api'],
    ['api.example.com', '/v2', 'api-v2'],
    ['api.example.com', '/v2/users', 'api-v2'],
    ['api.example.com', '/v2x', 'api'],
    ['api.example.com', '/v2?x=1', 'api-v2'],
    ['www.example.com', '/', 'apps'],
    ['a.b.example.com', '/', 'apps'],
    ['x.apps.example.com', '/', 'deep-apps'],
    ['example.com', '/', 'default'],
    ['other.test', '/ws', 'ws'],
    ['other.test', '/ws/chat', 'ws'],
    ['other.test', '/wsx', 'default'],
    ['other.test', '/static/img/a.png', 'static'],
    ['other.test', '/static/css', 'default'],
    [undefined, '/ws', 'ws'],
    ['', '/', 'default'],
    // exact host before wildcard before no host, whatever the prefix length
    ['api.example.com', '/ws', 'api'],
    ['www.example.com', '/ws', 'apps'],
  ])('%s %s → %s', (host, path, expected) => {
    expect(matchName(routes, host, path)).toBe(expected);
  });

  it('puts a higher priority first, before host and prefix', () => {
    const table = [route('api', ['api.example.com'], '/v1'), route('maintenance', [], '/', 10)];
    expect(matchName(table, 'api.example.com', '/v1/x')).toBe('maintenance');
    const low = [route('api', ['api.example.com']), route('fallback', [], '/api', -1)];
    expect(matchName(low, 'api.example.com', '/api')).toBe('api');
  });

  it('takes the longest prefix within one host kind', () => {
    const table = [route('a', [], '/a'), route('ab', [], '/a/b'), route('abc', [], '/a/b/c')];
    expect(matchName(table, 'h', '/a/b/c/d')).toBe('abc');
    expect(matchName(table, 'h', '/a/b/x')).toBe('ab');
    expect(matchName(table, 'h', '/a')).toBe('a');
    expect(matchName(table, 'h', '/b')).toBeUndefined();
  });

  it('prefers the longer wildcard when prefixes are equal, the longer prefix otherwise', () => {
    const table = [route('short', ['*.example.com'], '/api'), route('long', ['*.b.example.com'])];
    expect(matchName(table, 'a.b.example.com', '/')).toBe('long');
    expect(matchName(table, 'a.b.example.com', '/api/x')).toBe('short');
  });

  it('matches IPv6 literal hosts without their port', () => {
    const table = [route('v6', ['[::1]']), route('default', [])];
    expect(matchName(table, '[::1]:8080', '/')).toBe('v6');
    expect(matchName(table, '[::2]', '/')).toBe('default');
  });

  it('matches on whole segments, slashes repeated or trailing', () => {
    const table = [route('api', [], '/api/')];
    expect(matchName(table, 'h', '/api')).toBe('api');
    expect(matchName(table, 'h', '//api//x')).toBe('api');
    expect(matchName(table, 'h', '/apix')).toBeUndefined();
  });

  it('says which host entry matched', () => {
    const table = new RouteTable([route('apps', ['a.test', '*.example.com'])]);
    expect(table.match('x.example.com', '/')).toMatchObject({
      hostKind: 'wildcard',
      host: '*.example.com',
    });
    expect(table.match('a.test', '/')).toMatchObject({ hostKind: 'exact', host: 'a.test' });
  });
});

describe('hostOf', () => {
  it.each([
    ['Example.COM:80', 'example.com'],
    ['[2001:DB8::1]:443', '[2001:db8::1]'],
    ['[::1]', '[::1]'],
    ['10.0.0.1:8080', '10.0.0.1'],
    ['', ''],
  ])('%s → %s', (header, host) => expect(hostOf(header)).toBe(host));
});

describe('routeTies', () => {
  it('finds routes with the same priority, prefix and an overlapping host', () => {
    expect(
      routeTies([
        route('a', ['x.test', 'y.test'], '/api'),
        route('b', ['y.test'], '/api/'),
        route('c', ['*.test'], '/api'),
        route('d', ['*.test'], '/api'),
        route('e', [], '/'),
        route('f', []),
        route('g', [], '/', 1),
        route('h', ['x.test'], '/other'),
      ]),
    ).toEqual([
      ['a', 'b'],
      ['c', 'd'],
      ['e', 'f'],
    ]);
  });
});
