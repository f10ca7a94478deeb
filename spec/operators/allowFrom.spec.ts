import { reply, type ProxyRequest } from '../../src/hooks/types';
import { allowFrom } from '../../src/operators/allowFrom';
import { hookRequest } from '../helpers/hookRequest';
import { itMirrorsItsSource } from '../helpers/mapLikeContract';
import { marbles } from '../helpers/marbles';

const fromLan = (address: string) => address.startsWith('10.');
const forbidden = (request: ProxyRequest) => ({
  ...reply(request, 403, { error: 'forbidden' }),
  reason: 'forbidden',
});

describe('allowFrom', () => {
  describe('with every address allowed', () => {
    itMirrorsItsSource(
      () => allowFrom(() => true),
      () => hookRequest({ remoteAddress: '10.0.0.1' }),
      (request) => request,
    );
  });

  describe('with every address refused', () => {
    itMirrorsItsSource(
      () => allowFrom(() => false),
      () => hookRequest({ remoteAddress: '192.0.2.1' }),
      forbidden,
    );
  });

  it('forwards allowed clients and answers 403 to the others, in order', () => {
    marbles(({ cold, expectObservable }) => {
      const inside = hookRequest({ remoteAddress: '10.1.2.3' });
      const outside = hookRequest({ remoteAddress: '192.0.2.7', url: '/admin' });
      const requests = cold('a-b-a|', { a: inside, b: outside });
      expectObservable(requests.pipe(allowFrom(fromLan))).toBe('a-b-a|', {
        a: inside,
        b: forbidden(outside),
      });
    });
  });

  it('asks the matcher about the client address, once per request', () => {
    const asked: string[] = [];
    marbles(({ cold, expectObservable }) => {
      const allows = (address: string) => (asked.push(address), fromLan(address));
      const requests = cold('ab|', {
        a: hookRequest({ remoteAddress: '10.9.9.9' }),
        b: hookRequest({ remoteAddress: '::ffff:10.9.9.9' }),
      });
      expectObservable(requests.pipe(allowFrom(allows))).toBe('ab|', {
        a: hookRequest({ remoteAddress: '10.9.9.9' }),
        b: forbidden(hookRequest({ remoteAddress: '::ffff:10.9.9.9' })),
      });
    });
    expect(asked).toEqual(['10.9.9.9', '::ffff:10.9.9.9']);
  });
});
