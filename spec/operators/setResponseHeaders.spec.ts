import { setResponseHeaders } from '../../src/operators/setResponseHeaders';
import { hookResponse } from '../helpers/hookRequest';
import { itMirrorsItsSource } from '../helpers/mapLikeContract';
import { marbles } from '../helpers/marbles';

describe('setResponseHeaders', () => {
  itMirrorsItsSource(
    () => setResponseHeaders([['Strict-Transport-Security', 'max-age=31536000']]),
    () => hookResponse({ headers: { 'content-type': 'text/html' } }),
    (response) => ({
      ...response,
      headers: { 'content-type': 'text/html', 'strict-transport-security': 'max-age=31536000' },
    }),
  );

  it('sets, replaces and removes headers on every response, keeping the others', () => {
    marbles(({ cold, expectObservable }) => {
      const edits = [
        ['Server', ''],
        ['Cache-Control', 'no-store'],
        ['X-Frame-Options', 'DENY'],
      ] as const;
      const responses = cold('a-b|', {
        a: hookResponse({ headers: { server: 'app/1.0', 'cache-control': 'max-age=60' } }),
        b: hookResponse({ status: 404, headers: { 'set-cookie': ['a=1', 'b=2'] } }),
      });
      expectObservable(responses.pipe(setResponseHeaders(edits))).toBe('a-b|', {
        a: hookResponse({ headers: { 'cache-control': 'no-store', 'x-frame-options': 'DENY' } }),
        b: hookResponse({
          status: 404,
          headers: {
            'set-cookie': ['a=1', 'b=2'],
            'cache-control': 'no-store',
            'x-frame-options': 'DENY',
          },
        }),
      });
    });
  });
});
