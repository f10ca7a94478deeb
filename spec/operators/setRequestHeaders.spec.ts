import { lastValueFrom, of } from 'rxjs';
import type { HeaderMap } from '../../src/hooks/types';
import type { HeaderEdit } from '../../src/operators/applyHeaderEdits';
import { setRequestHeaders } from '../../src/operators/setRequestHeaders';
import { hookRequest } from '../helpers/hookRequest';
import { itMirrorsItsSource } from '../helpers/mapLikeContract';
import { marbles } from '../helpers/marbles';

describe('setRequestHeaders', () => {
  itMirrorsItsSource(
    () => setRequestHeaders([['X-Forwarded-Proto', 'https']]),
    () => hookRequest({ headers: { host: 'example' } }),
    (request) => ({ ...request, headers: { host: 'example', 'x-forwarded-proto': 'https' } }),
  );

  it.each<[string, HeaderEdit[], HeaderMap, HeaderMap]>([
    ['adds a header', [['x-env', 'prod']], { host: 'h' }, { host: 'h', 'x-env': 'prod' }],
    ['stores names lower-case', [['X-Env', 'prod']], {}, { 'x-env': 'prod' }],
    ['replaces a header of any case', [['X-ENV', 'prod']], { 'x-env': 'dev' }, { 'x-env': 'prod' }],
    ['replaces a repeated header', [['via', 'rxproxy']], { via: ['a', 'b'] }, { via: 'rxproxy' }],
    ['removes with an empty value', [['Cookie', '']], { cookie: 'c', host: 'h' }, { host: 'h' }],
    ['removes a header that is absent', [['cookie', '']], { host: 'h' }, { host: 'h' }],
    [
      'applies edits in order, the last of a name winning',
      [
        ['x-a', '1'],
        ['X-A', '2'],
        ['x-b', '3'],
        ['x-b', ''],
      ],
      {},
      { 'x-a': '2' },
    ],
    ['does nothing without edits', [], { host: 'h' }, { host: 'h' }],
  ])('%s', async (_case, edits, headers, expected) => {
    const request = hookRequest({ headers });
    const out = await lastValueFrom(of(request).pipe(setRequestHeaders(edits)));
    expect(out).toBe(request);
    expect(request.headers).toEqual(expected);
  });

  it('is not changed by later edits to the array it was built from', () => {
    const edits: [string, string][] = [['x-env', 'prod']];
    const operator = setRequestHeaders(edits);
    edits[0] = ['x-env', 'dev'];
    marbles(({ cold, expectObservable }) => {
      expectObservable(cold('a|', { a: hookRequest() }).pipe(operator)).toBe('a|', {
        a: hookRequest({ headers: { 'x-env': 'prod' } }),
      });
    });
  });
});
