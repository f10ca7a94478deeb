import { explainRoute } from '../../src/routing/explainRoute';
import { RouteTable } from '../../src/routing/routeTable';
import { route } from '../helpers/routeRules';

const table = new RouteTable([
  route('api', ['api.example.com'], '/api'),
  route('api-v2', ['api.example.com'], '/api/v2'),
  route('apps', ['*.example.com']),
  route('deep', ['*.b.example.com']),
  route('maintenance', [], '/admin', 10),
  route('default', []),
]);

const explained = (host: string | undefined, target: string) => {
  const { route: chosen, candidates, ...rest } = explainRoute(table, host, target);
  return {
    ...rest,
    route: chosen?.name,
    candidates: candidates.map((c) => [c.route.name, c.why]),
  };
};

describe('explainRoute', () => {
  it('lists every matching route with why the chosen one comes first', () => {
    expect(explained('API.example.com:443', '/api/v2/users?x=1')).toEqual({
      host: 'api.example.com',
      path: '/api/v2/users',
      route: 'api-v2',
      candidates: [
        ['api-v2', 'chosen'],
        ['api', 'a shorter path_prefix (/api after /api/v2)'],
        ['apps', 'a wildcard host comes after an exact host'],
        ['default', 'no host comes after an exact host'],
      ],
    });
  });

  it('puts priority first, and explains a wildcard against a longer one', () => {
    expect(explained('x.b.example.com', '/admin/../admin/users').candidates).toEqual([
      ['maintenance', 'chosen'],
      ['deep', 'lower priority (0 after 10)'],
      ['apps', 'lower priority (0 after 10)'],
      ['default', 'lower priority (0 after 10)'],
    ]);
    expect(explained('x.b.example.com', '/').candidates).toEqual([
      ['deep', 'chosen'],
      ['apps', 'a shorter wildcard (*.example.com after *.b.example.com)'],
      ['default', 'no host comes after a wildcard host'],
    ]);
  });

  it('matches on the normalised path, so a dot-segment cannot step around a route', () => {
    expect(explained('api.example.com', '/api/%2e%2e/admin')).toMatchObject({
      path: '/admin',
      route: 'maintenance',
    });
  });

  it('says when no route matches', () => {
    const only = new RouteTable([route('api', ['api.example.com'])]);
    expect(explainRoute(only, 'other.test', '/')).toEqual({
      host: 'other.test',
      path: '/',
      route: undefined,
      candidates: [],
    });
  });

  it('chooses what match() chooses, for every host and path of a table', () => {
    const hosts = ['api.example.com', 'x.example.com', 'x.b.example.com', 'other.test', ''];
    const paths = ['/', '/api', '/api/v2/x', '/apix', '/admin', '/admin/x', '/b'];
    for (const host of hosts) {
      for (const path of paths) {
        expect(explainRoute(table, host, path).route).toBe(table.match(host, path)?.route);
      }
    }
  });
});
