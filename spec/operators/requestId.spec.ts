import { lastValueFrom, of } from 'rxjs';
import type { HeaderMap } from '../../src/hooks/types';
import { requestId, requestIdResponse } from '../../src/operators/requestId';
import { hookRequest, hookResponse } from '../helpers/hookRequest';
import { itMirrorsItsSource } from '../helpers/mapLikeContract';
import { marbles } from '../helpers/marbles';

const header = 'x-request-id';
const counter = () => {
  let made = 0;
  return () => `new-${++made}`;
};
const withId = (id: string, headers: HeaderMap = {}) =>
  hookRequest({ headers: { ...headers, [header]: id }, meta: { requestId: id } });

describe('requestId', () => {
  describe('making ids', () => {
    itMirrorsItsSource(
      () => requestId({ header, newId: () => 'fresh' }),
      () => hookRequest({ headers: { host: 'example' } }),
      () => withId('fresh', { host: 'example' }),
    );
  });

  describe('keeping ids', () => {
    itMirrorsItsSource(
      () => requestId({ header, newId: () => 'fresh' }),
      () => hookRequest({ headers: { [header]: 'abc-123' } }),
      () => withId('abc-123'),
    );
  });

  it.each<[string, string | string[] | undefined, string]>([
    ['a simple id', 'abc-123', 'abc-123'],
    ['a UUID', '0b6f3c9e-8f52-4c1b-9a8e-2f0d4c7a1b3e', '0b6f3c9e-8f52-4c1b-9a8e-2f0d4c7a1b3e'],
    ['the edges of visible ASCII', '!~', '!~'],
    ['200 characters', 'x'.repeat(200), 'x'.repeat(200)],
    ['the first of repeated headers', ['first', 'second'], 'first'],
    ['no header', undefined, 'new-1'],
    ['an empty header', '', 'new-1'],
    ['201 characters', 'x'.repeat(201), 'new-1'],
    ['a space', 'a b', 'new-1'],
    ['a control character', 'a\x7f', 'new-1'],
    ['a tab', 'a\tb', 'new-1'],
    ['non-ASCII', 'café', 'new-1'],
    ['an invalid first of repeated headers', ['a b', 'ok'], 'new-1'],
  ])('with %s, forwards and records %p', async (_case, incoming, id) => {
    const headers: HeaderMap = incoming === undefined ? {} : { [header]: incoming };
    const request = hookRequest({ headers });
    const out = await lastValueFrom(of(request).pipe(requestId({ header, newId: counter() })));
    expect(out).toBe(request);
    expect(request.headers).toEqual({ [header]: id });
    expect(request.meta).toEqual({ requestId: id });
  });

  it('makes a new id for each request that needs one, and only for those', () => {
    marbles(({ cold, expectObservable }) => {
      const requests = cold('a-b-c-d|', {
        a: hookRequest(),
        b: hookRequest({ headers: { [header]: 'client-id' } }),
        c: hookRequest({ headers: { [header]: 'bad id' } }),
        d: hookRequest(),
      });
      expectObservable(requests.pipe(requestId({ header, newId: counter() }))).toBe('a-b-c-d|', {
        a: withId('new-1'),
        b: withId('client-id'),
        c: withId('new-2'),
        d: withId('new-3'),
      });
    });
  });

  it('matches the header name case-insensitively', async () => {
    const request = hookRequest({ headers: { 'x-correlation-id': 'abc' } });
    await lastValueFrom(
      of(request).pipe(requestId({ header: 'X-Correlation-ID', newId: counter() })),
    );
    expect(request.headers).toEqual({ 'x-correlation-id': 'abc' });
    expect(request.meta.requestId).toBe('abc');
  });

  it('keeps the other headers and meta fields', async () => {
    const request = hookRequest({ headers: { host: 'h', accept: ['a', 'b'] }, meta: { user: 7 } });
    await lastValueFrom(of(request).pipe(requestId({ header, newId: counter() })));
    expect(request.headers).toEqual({ host: 'h', accept: ['a', 'b'], [header]: 'new-1' });
    expect(request.meta).toEqual({ user: 7, requestId: 'new-1' });
  });
});

describe('requestIdResponse', () => {
  const answered = (id?: string) =>
    hookResponse({
      headers: { 'content-type': 'text/plain' },
      request: hookRequest({ meta: id === undefined ? {} : { requestId: id } }),
    });

  describe('with an id', () => {
    itMirrorsItsSource(
      () => requestIdResponse(header),
      () => answered('abc'),
      (response) => ({ ...response, headers: { ...response.headers, [header]: 'abc' } }),
    );
  });

  it('returns the request id to the client, replacing what the backend sent', () => {
    marbles(({ cold, expectObservable }) => {
      const backendSent = answered('abc');
      backendSent.headers[header] = 'from-backend';
      const responses = cold('ab|', { a: backendSent, b: answered() });
      expectObservable(responses.pipe(requestIdResponse('X-Request-ID'))).toBe('ab|', {
        a: { ...answered('abc'), headers: { 'content-type': 'text/plain', [header]: 'abc' } },
        b: answered(),
      });
    });
  });
});
