import type { IncomingHttpHeaders } from 'node:http';
import {
  conflictingHost,
  http1HeaderMap,
  http1RawHeaders,
  http2ResponseHead,
} from '../../src/forwarding/h2Headers';

describe('http1RawHeaders', () => {
  it.each<[string, string[], boolean, string[]]>([
    [
      'drops pseudo-headers and takes host from :authority, first',
      [
        ':method',
        'GET',
        ':scheme',
        'https',
        ':authority',
        'a.test',
        ':path',
        '/x',
        'accept',
        '*/*',
      ],
      false,
      ['host', 'a.test', 'accept', '*/*'],
    ],
    [
      'takes :authority over a host header, which is not repeated',
      [':authority', 'a.test', ':path', '/', 'host', 'A.test', 'accept', '*/*'],
      false,
      ['host', 'a.test', 'accept', '*/*'],
    ],
    [
      'takes the host header without :authority',
      [':method', 'GET', ':path', '/', 'host', 'b.test', 'accept', '*/*'],
      false,
      ['host', 'b.test', 'accept', '*/*'],
    ],
    [
      'joins cookie crumbs with "; " in their order, after the other headers',
      [':authority', 'a.test', 'cookie', 'a=1', 'accept', '*/*', 'cookie', 'b=2', 'cookie', 'c=3'],
      false,
      ['host', 'a.test', 'accept', '*/*', 'cookie', 'a=1; b=2; c=3'],
    ],
    [
      'marks an unsized body chunked',
      [':method', 'POST', ':authority', 'a.test', 'content-type', 'text/plain'],
      true,
      ['host', 'a.test', 'content-type', 'text/plain', 'transfer-encoding', 'chunked'],
    ],
    [
      'adds no transfer-encoding for a sized body or none',
      [':method', 'POST', ':authority', 'a.test', 'content-length', '3'],
      false,
      ['host', 'a.test', 'content-length', '3'],
    ],
    ['adds no host without :authority', [':path', '/', 'accept', '*/*'], false, ['accept', '*/*']],
  ])('%s', (_name, raw, unsizedBody, expected) => {
    expect(http1RawHeaders(raw, unsizedBody)).toEqual(expected);
  });
});

describe('http1HeaderMap', () => {
  it.each<[string, IncomingHttpHeaders, boolean, IncomingHttpHeaders]>([
    [
      'drops pseudo-headers and takes host from :authority',
      { ':method': 'GET', ':authority': 'a.test', ':path': '/', accept: '*/*' },
      false,
      { accept: '*/*', host: 'a.test' },
    ],
    [
      'takes :authority over a host header',
      { ':authority': 'a.test', host: 'A.test' },
      false,
      { host: 'a.test' },
    ],
    [
      'keeps the cookie Node already joined',
      { ':authority': 'a.test', cookie: 'a=1; b=2' },
      false,
      { cookie: 'a=1; b=2', host: 'a.test' },
    ],
    [
      'marks an unsized body chunked',
      { ':method': 'POST', ':authority': 'a.test' },
      true,
      { host: 'a.test', 'transfer-encoding': 'chunked' },
    ],
    [
      'adds no transfer-encoding for a sized body',
      { ':method': 'POST', ':authority': 'a.test', 'content-length': '3' },
      false,
      { 'content-length': '3', host: 'a.test' },
    ],
  ])('%s', (_name, headers, unsizedBody, expected) => {
    const map = http1HeaderMap(headers, unsizedBody);
    expect(map).toEqual(expected);
    expect(Object.keys(map).some((name) => name.startsWith(':'))).toBe(false);
  });
});

describe('http2ResponseHead', () => {
  it('turns a 101 into 200 and drops the upgrade and connection headers', () => {
    const head = [
      'HTTP/1.1 101 Switching Protocols',
      'Upgrade: websocket',
      'Connection: Upgrade',
      'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=',
      'Sec-WebSocket-Protocol: chat',
    ].join('\r\n');
    expect(http2ResponseHead(head)).toEqual({
      status: 200,
      headers: { 'sec-websocket-protocol': 'chat' },
    });
  });

  it('drops transfer-encoding, keep-alive and proxy-connection, and lowercases names', () => {
    const head = [
      'HTTP/1.1 200 OK',
      'Transfer-Encoding: chunked',
      'Keep-Alive: timeout=5',
      'Proxy-Connection: keep-alive',
      'Content-Type: text/plain',
    ].join('\r\n');
    expect(http2ResponseHead(head)).toEqual({
      status: 200,
      headers: { 'content-type': 'text/plain' },
    });
  });

  it('gives repeated headers as arrays in their order', () => {
    const head = [
      'HTTP/1.1 200 OK',
      'Set-Cookie: a=1',
      'set-cookie: b=2',
      'Set-Cookie: c=3',
      'Vary: accept',
    ].join('\r\n');
    expect(http2ResponseHead(head)?.headers).toEqual({
      'set-cookie': ['a=1', 'b=2', 'c=3'],
      vary: 'accept',
    });
  });

  it('keeps the status and content-length of a refusal', () => {
    const head = 'HTTP/1.1 403 Forbidden\r\nContent-Length: 9\r\nContent-Type: text/plain';
    expect(http2ResponseHead(head)).toEqual({
      status: 403,
      headers: { 'content-length': '9', 'content-type': 'text/plain' },
    });
  });

  it('reads HTTP/1.0 and skips lines without a name', () => {
    expect(http2ResponseHead('HTTP/1.0 204 No Content\r\n: nameless\r\nnocolon\r\nX-A: 1')).toEqual(
      {
        status: 204,
        headers: { 'x-a': '1' },
      },
    );
  });

  it.each(['', 'garbage', 'HTTP/2 200', 'HTTP/1.1 2000 OK', 'HTTP/1.1 OK', '\r\nHTTP/1.1 200 OK'])(
    'gives undefined for %j',
    (head) => {
      expect(http2ResponseHead(head)).toBeUndefined();
    },
  );
});

describe('conflictingHost', () => {
  it.each([
    [{ ':authority': 'a.test', host: 'b.test' }, true],
    [{ ':authority': 'a.test', host: 'A.TEST' }, false],
    [{ ':authority': 'a.test' }, false],
    [{ host: 'b.test' }, false],
  ])('%j → %s', (headers, conflict) => {
    expect(conflictingHost(headers)).toBe(conflict);
  });
});
