import {
  clientResponseHead,
  clientResponseHeaders,
  upstreamRequestHeaders,
  type ForwardedFor,
} from '../../src/forwarding/headers';

const forwarded: ForwardedFor = { clientAddress: '10.0.0.7', proto: 'http' };
const raw = (pairs: readonly string[]) => pairs.map((value) => Buffer.from(value, 'latin1'));

describe('upstreamRequestHeaders', () => {
  it.each<[string, string[], ForwardedFor, string[]]>([
    [
      'keeps order, case and repeats; adds the forwarding headers',
      ['Host', 'app.test', 'Accept', 'a', 'X-Tag', '1', 'x-tag', '2'],
      forwarded,
      [
        'Host',
        'app.test',
        'Accept',
        'a',
        'X-Tag',
        '1',
        'x-tag',
        '2',
        'x-forwarded-for',
        '10.0.0.7',
        'x-forwarded-proto',
        'http',
        'x-forwarded-host',
        'app.test',
      ],
    ],
    [
      'drops hop-by-hop headers in any case, and Expect',
      [
        'Host',
        'h',
        'CONNECTION',
        'keep-alive',
        'Keep-Alive',
        'timeout=5',
        'TE',
        'trailers',
        'Trailer',
        'x',
        'Transfer-Encoding',
        'chunked',
        'Upgrade',
        'h2c',
        'Proxy-Connection',
        'close',
        'Expect',
        '100-continue',
      ],
      forwarded,
      [
        'Host',
        'h',
        'x-forwarded-for',
        '10.0.0.7',
        'x-forwarded-proto',
        'http',
        'x-forwarded-host',
        'h',
      ],
    ],
    [
      'drops the headers Connection names, before or after it',
      ['X-Secret', 's', 'Connection', 'close, X-Secret,  x-other ', 'X-Other', 'o', 'X-Kept', 'k'],
      forwarded,
      ['X-Kept', 'k', 'x-forwarded-for', '10.0.0.7', 'x-forwarded-proto', 'http'],
    ],
    [
      'appends to every X-Forwarded-For and replaces the other forwarding headers',
      [
        'X-Forwarded-For',
        '1.1.1.1',
        'x-forwarded-for',
        '2.2.2.2',
        'X-Forwarded-Proto',
        'https',
        'X-Forwarded-Host',
        'evil.test',
        'Host',
        'h',
      ],
      { clientAddress: undefined, proto: 'https' },
      [
        'Host',
        'h',
        'x-forwarded-for',
        '1.1.1.1, 2.2.2.2, unknown',
        'x-forwarded-proto',
        'https',
        'x-forwarded-host',
        'h',
      ],
    ],
    [
      'sends the override as Host and the client Host as X-Forwarded-Host',
      ['host', 'public.test'],
      { ...forwarded, hostOverride: '127.0.0.1:8080' },
      [
        'host',
        '127.0.0.1:8080',
        'x-forwarded-for',
        '10.0.0.7',
        'x-forwarded-proto',
        'http',
        'x-forwarded-host',
        'public.test',
      ],
    ],
    [
      'adds Host from the override when the client sent none',
      [],
      { ...forwarded, hostOverride: '127.0.0.1:8080' },
      ['x-forwarded-for', '10.0.0.7', 'x-forwarded-proto', 'http', 'host', '127.0.0.1:8080'],
    ],
  ])('%s', (_, input, options, expected) => {
    expect(upstreamRequestHeaders(input, options)).toEqual(expected);
  });
});

describe('clientResponseHead', () => {
  it.each<[string, string[], string[], boolean]>([
    [
      'keeps order, case and repeats',
      ['Content-Type', 'text/plain', 'Set-Cookie', 'a=1', 'set-cookie', 'b=2', 'X-Y', ''],
      ['Content-Type', 'text/plain', 'Set-Cookie', 'a=1', 'set-cookie', 'b=2', 'X-Y', ''],
      false,
    ],
    [
      'drops hop-by-hop headers; keep-alive does not close',
      [
        'Connection',
        'keep-alive',
        'Keep-Alive',
        'timeout=5',
        'Transfer-Encoding',
        'chunked',
        'TE',
        'x',
        'trailer',
        'x-t',
        'Upgrade',
        'websocket',
        'proxy-connection',
        'x',
        'Date',
        'd',
      ],
      ['Date', 'd'],
      false,
    ],
    ['close closes', ['connection', 'close', 'Content-Length', '0'], ['Content-Length', '0'], true],
    ['Close closes, in any case', ['Connection', 'Close'], [], true],
    ['close among other options closes', ['Connection', 'Keep-Alive , CLOSE'], [], true],
    [
      'drops the headers Connection names, before or after it',
      ['X-Secret', 's', 'Connection', 'x-secret, X-Other', 'X-Kept', 'k', 'x-other', 'o'],
      ['X-Kept', 'k'],
      false,
    ],
    [
      'an option that only resembles close does not close: it names a header',
      ['Connection', 'closed', 'Closed', 'c'],
      [],
      false,
    ],
  ])('%s', (_, input, headers, closes) => {
    expect(clientResponseHead(raw(input))).toEqual({ headers, closes });
    expect(clientResponseHeaders(raw(input))).toEqual(headers);
  });
});
