import { forwardedClient } from '../../src/forwarding/clientAddress';
import { cidrMatcher, parseCidrList } from '../../src/net/cidr';

const trusted = cidrMatcher(parseCidrList('10.0.0.0/8, ::1, 2001:db8::/32').ranges);
const nobody = cidrMatcher([]);

describe('forwardedClient', () => {
  it.each<[string, string | undefined, string | string[] | undefined, string | undefined]>([
    ['an untrusted peer is the client', '203.0.113.9', undefined, '203.0.113.9'],
    ['an untrusted peer header is ignored', '203.0.113.9', '198.51.100.1', '203.0.113.9'],
    ['a trusted peer without header is the client', '10.0.0.1', undefined, '10.0.0.1'],
    ['a trusted peer with an empty header is the client', '10.0.0.1', '', '10.0.0.1'],
    ['a trusted peer forwards for one client', '10.0.0.1', '198.51.100.1', '198.51.100.1'],
    [
      'the right-most untrusted entry wins over spoofed ones to its left',
      '10.0.0.1',
      '1.1.1.1, 198.51.100.1, 10.0.0.2',
      '198.51.100.1',
    ],
    ['entries are trimmed', '10.0.0.1', '  198.51.100.1  ,10.0.0.2 ', '198.51.100.1'],
    ['empty entries are skipped', '10.0.0.1', '198.51.100.1,, ,10.0.0.2,', '198.51.100.1'],
    ['every entry trusted: the left-most', '10.0.0.1', '10.0.0.3, ::1, 10.0.0.2', '10.0.0.3'],
    ['only empty entries: the peer', '10.0.0.1', ' , ,', '10.0.0.1'],
    [
      'several header lines read as one chain',
      '10.0.0.1',
      ['198.51.100.1, 10.0.0.5', '198.51.100.2, 10.0.0.4'],
      '198.51.100.2',
    ],
    ['a mapped trusted peer', '::ffff:10.0.0.1', '198.51.100.1', '198.51.100.1'],
    ['a trusted IPv6 peer and client', '::1', '2001:db9::7, 2001:db8::1', '2001:db9::7'],
    ['an entry that is no address leaves the peer', '10.0.0.1', 'unknown, 10.0.0.2', '10.0.0.1'],
    ['an entry with a port leaves the peer', '10.0.0.1', '198.51.100.1:5000', '10.0.0.1'],
    ['no peer address', undefined, '198.51.100.1', undefined],
  ])('%s', (_name, peer, header, client) => {
    expect(forwardedClient(peer, header, trusted).clientAddress).toBe(client);
  });

  it('trusts nobody with an empty list', () => {
    expect(forwardedClient('10.0.0.1', '198.51.100.1', nobody).clientAddress).toBe('10.0.0.1');
  });
});
