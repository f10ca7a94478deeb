import { isIP } from 'node:net';
import { cidrMatcher, parseCidr, parseCidrList } from '../../src/net/cidr';
import { isIpAddress } from '../../src/net/ipAddress';

const matcher = (list: string) => {
  const parsed = parseCidrList(list);
  expect(parsed.errors).toEqual([]);
  return cidrMatcher(parsed.ranges);
};

describe('parseCidrList', () => {
  it('reads IPv4 and IPv6 addresses and ranges, bare addresses as single hosts', () => {
    const { ranges, errors } = parseCidrList('10.0.0.0/8, 192.168.1.7, ::1, 2001:db8::/32');
    expect(errors).toEqual([]);
    expect(ranges.map((range) => [range.text, range.family, range.prefix])).toEqual([
      ['10.0.0.0/8', 4, 8],
      ['192.168.1.7', 4, 32],
      ['::1', 6, 128],
      ['2001:db8::/32', 6, 32],
    ]);
  });

  it('accepts spaces or commas between entries, and an empty list', () => {
    expect(parseCidrList('').ranges).toEqual([]);
    expect(parseCidrList(' 10.0.0.1 10.0.0.2,,10.0.0.3 ').ranges).toHaveLength(3);
  });

  it('clears host bits of the network', () => {
    expect(parseCidr('10.1.2.3/8')).toMatchObject({ groups: [0, 0, 0, 0, 0, 0, 0x0a00, 0] });
  });

  it('reads an IPv4-mapped range as IPv4', () => {
    expect(parseCidr('::ffff:10.0.0.0/104')).toMatchObject({ family: 4, prefix: 8 });
  });

  it('names every bad entry', () => {
    expect(parseCidrList('10.0.0.0/33, 1.2.3, ::g, 10.0.0.1, ::/129, 1.2.3.4/x').errors).toEqual([
      '"10.0.0.0/33": prefix /33 is above 32',
      '"1.2.3" is not an IP address or CIDR range',
      '"::g" is not an IP address or CIDR range',
      '"::/129": prefix /129 is above 128',
      '"1.2.3.4/x": the prefix after / is not a number',
    ]);
  });

  it.each([
    '1.2.3',
    '1.2.3.4.5',
    '256.1.1.1',
    '01.2.3.4',
    '1..2.3',
    '::g',
    ':::',
    '1:::2',
    '1::2::3',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7',
    '1:2:3:4:5:6:7:8::',
    '12345::',
    ':1::',
    '1:',
    '::1.2.3',
    '::1.2.3.4:5',
    '1:2:3:4:5:6:7:1.2.3.4',
    'example.com',
    '',
    '/8',
    '10.0.0.0/',
  ])('refuses %j', (text) => {
    expect(typeof parseCidr(text)).toBe('string');
  });
});

describe('isIpAddress agrees with node:net', () => {
  it.each([
    '0.0.0.0',
    '255.255.255.255',
    '1.2.3',
    '01.2.3.4',
    '::',
    '::1',
    '1::',
    '1::2',
    '1:2:3:4:5:6:7:8',
    '1:2:3:4:5:6:7::',
    '::2:3:4:5:6:7:8',
    '1:2:3:4:5:6::8',
    '1:2:3:4:5:6:7:8:9',
    '::ffff:1.2.3.4',
    '64:ff9b::192.0.2.33',
    '1:2:3:4:5:6:1.2.3.4',
    '::1.2.3.4',
    'fe80::1%eth0',
    'FFFF::ABCD',
    ':1',
    '1:',
    ':::',
    '12345::',
    '1.2.3.4:80',
    '[::1]',
  ])('%j', (text) => {
    expect(isIpAddress(text)).toBe(isIP(text) !== 0);
  });
});

describe('cidrMatcher', () => {
  it.each<[string, string, boolean]>([
    ['10.0.0.0/8', '10.0.0.0', true],
    ['10.0.0.0/8', '10.255.255.255', true],
    ['10.0.0.0/8', '11.0.0.0', false],
    ['10.0.0.0/8', '9.255.255.255', false],
    ['192.168.1.7', '192.168.1.7', true],
    ['192.168.1.7', '192.168.1.8', false],
    ['192.168.1.7/32', '192.168.1.7', true],
    ['0.0.0.0/0', '255.255.255.255', true],
    ['0.0.0.0/0', '0.0.0.0', true],
    ['0.0.0.0/0', '::1', false],
    ['128.0.0.0/1', '200.1.2.3', true],
    ['128.0.0.0/1', '127.255.255.255', false],
    ['255.255.255.254/31', '255.255.255.255', true],
    ['172.16.0.0/12', '172.31.255.255', true],
    ['172.16.0.0/12', '172.32.0.0', false],
    ['::1', '::1', true],
    ['::1', '::2', false],
    ['::1/128', '0:0:0:0:0:0:0:1', true],
    ['::/0', '2001:db8::1', true],
    ['::/0', '10.0.0.1', false],
    ['2001:db8::/32', '2001:db8:ffff:ffff:ffff:ffff:ffff:ffff', true],
    ['2001:db8::/32', '2001:db9::', false],
    ['2001:db8::/33', '2001:db8:7fff::1', true],
    ['2001:db8::/33', '2001:db8:8000::1', false],
    ['fe80::/10', 'fe80::1%eth0', true],
    ['fe80::/10', 'febf::1', true],
    ['fe80::/10', 'fec0::1', false],
    ['2001:DB8::/32', '2001:db8::abcd', true],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8', true],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:9', false],
    ['10.0.0.0/8', '::ffff:10.1.2.3', true],
    ['10.0.0.0/8', '::ffff:11.1.2.3', false],
    ['127.0.0.1', '::ffff:127.0.0.1', true],
    ['::ffff:10.0.0.0/104', '10.9.9.9', true],
    ['::ffff:10.0.0.0/104', '::ffff:10.9.9.9', true],
    ['::/0', '::ffff:10.9.9.9', false],
    ['10.0.0.0/8', 'not-an-address', false],
    ['10.0.0.0/8', '', false],
    ['10.0.0.0/8', '10.0.0', false],
    ['::1', '::g', false],
  ])('%s contains %j: %s', (list, address, expected) => {
    expect(matcher(list)(address)).toBe(expected);
  });

  it('matches nothing when the list is empty', () => {
    expect(matcher('')('127.0.0.1')).toBe(false);
  });

  it('matches any range of a mixed list', () => {
    const trusted = matcher('10.0.0.0/8, 192.168.1.7, ::1, 2001:db8::/32');
    expect(['10.1.1.1', '192.168.1.7', '::1', '2001:db8::5'].map(trusted)).toEqual([
      true,
      true,
      true,
      true,
    ]);
    expect(['11.1.1.1', '192.168.1.6', '::2', '2001:db9::5'].map(trusted)).toEqual([
      false,
      false,
      false,
      false,
    ]);
  });
});
