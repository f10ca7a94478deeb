import { lastValueFrom, of } from 'rxjs';
import { stripPrefix } from '../../src/operators/stripPrefix';
import { hookRequest } from '../helpers/hookRequest';
import { itMirrorsItsSource } from '../helpers/mapLikeContract';
import { marbles } from '../helpers/marbles';

describe('stripPrefix', () => {
  itMirrorsItsSource(
    () => stripPrefix('/api'),
    () => hookRequest({ url: '/api/users?page=2' }),
    (request) => ({ ...request, url: '/users?page=2' }),
  );

  it.each([
    ['/api', '/api', '/'],
    ['/api', '/api/', '/'],
    ['/api', '/api/x?q=1', '/x?q=1'],
    ['/api', '/api?q=1', '/?q=1'],
    ['/api', '/api/v1/api/x', '/v1/api/x'],
    ['/api', '/apix', '/apix'],
    ['/api', '/apix/y', '/apix/y'],
    ['/api', '/other/api', '/other/api'],
    ['/api', '/API/x', '/API/x'],
    ['/api', '/', '/'],
    ['/api/', '/api/x', '/x'],
    ['/api/', '/api', '/'],
    ['/a/b', '/a/b/c', '/c'],
    ['/a/b', '/a/bc', '/a/bc'],
    ['/a/b', '/a', '/a'],
    ['/', '/api/x', '/api/x'],
    ['', '/api/x', '/api/x'],
  ])('with prefix %p forwards %p as %p', async (prefix, url, forwarded) => {
    const request = hookRequest({ url });
    const out = await lastValueFrom(of(request).pipe(stripPrefix(prefix)));
    expect(out).toBe(request);
    expect(request.url).toBe(forwarded);
  });

  it('changes only the url, and each request once', () => {
    marbles(({ cold, expectObservable }) => {
      const requests = cold('ab|', {
        a: hookRequest({ url: '/api/api/x', headers: { host: 'h' } }),
        b: hookRequest({ url: '/apix' }),
      });
      expectObservable(requests.pipe(stripPrefix('/api'))).toBe('ab|', {
        a: { ...hookRequest({ url: '/api/api/x', headers: { host: 'h' } }), url: '/api/x' },
        b: hookRequest({ url: '/apix' }),
      });
    });
  });
});
