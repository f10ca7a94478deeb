import {
  acceptFor,
  checkBackendAcceptance,
  clientHandshakeRefusal,
  deflateOffer,
  switchingProtocolsLines,
} from '../../src/forwarding/wsHandshake';
import { SAMPLE_ACCEPT, SAMPLE_KEY } from '../helpers/rawWebSocket';

const handshake = {
  upgrade: 'websocket',
  'sec-websocket-key': SAMPLE_KEY,
  'sec-websocket-version': '13',
};

describe('acceptFor', () => {
  it('answers RFC 6455`s sample key with its sample accept value', () => {
    expect(acceptFor(SAMPLE_KEY)).toBe(SAMPLE_ACCEPT);
  });
});

describe('clientHandshakeRefusal', () => {
  it.each([
    ['a valid handshake', {}, undefined],
    ['version 8', { 'sec-websocket-version': '8' }, undefined],
    ['subprotocols with spaces', { 'sec-websocket-protocol': 'v1,  v2\t, chat.x' }, undefined],
    ['Upgrade: h2c', { upgrade: 'h2c' }, 'Invalid Upgrade header'],
    ['no key', { 'sec-websocket-key': undefined }, 'Missing or invalid Sec-WebSocket-Key header'],
    [
      'a bad key',
      { 'sec-websocket-key': 'not a key' },
      'Missing or invalid Sec-WebSocket-Key header',
    ],
    [
      'version 12',
      { 'sec-websocket-version': '12' },
      'Missing or invalid Sec-WebSocket-Version header',
    ],
    [
      'no version',
      { 'sec-websocket-version': undefined },
      'Missing or invalid Sec-WebSocket-Version header',
    ],
    [
      'an empty subprotocol',
      { 'sec-websocket-protocol': 'v1,,v2' },
      'Invalid Sec-WebSocket-Protocol header',
    ],
    [
      'a repeated subprotocol',
      { 'sec-websocket-protocol': 'v1, v1' },
      'Invalid Sec-WebSocket-Protocol header',
    ],
    [
      'a subprotocol with a space',
      { 'sec-websocket-protocol': 'v 1' },
      'Invalid Sec-WebSocket-Protocol header',
    ],
  ])('%s: %s', (_name, change, message) => {
    const refusal = clientHandshakeRefusal({ ...handshake, ...change });
    expect(refusal?.message).toBe(message);
    if (refusal) expect(refusal.status).toBe(400);
  });

  it('names the versions it accepts when the version is wrong', () => {
    const refusal = clientHandshakeRefusal({ ...handshake, 'sec-websocket-version': '7' });
    expect(refusal?.headers).toEqual(['Sec-WebSocket-Version', '13, 8']);
  });
});

describe('deflateOffer', () => {
  it.each([
    [undefined, undefined],
    ['x-webkit-deflate-frame', undefined],
    ['permessage-deflate; client_max_window_bits', 'permessage-deflate; client_max_window_bits'],
    [
      'permessage-deflate; server_no_context_takeover, x-foo, Permessage-Deflate',
      'permessage-deflate; server_no_context_takeover, Permessage-Deflate',
    ],
  ])('%s -> %s', (header, offer) => {
    expect(deflateOffer(header)).toBe(offer);
  });
});

describe('checkBackendAcceptance', () => {
  const key = 'x3JJHMbDL1EzLkh9GBhXDw==';
  const accepted = { upgrade: 'WebSocket', 'sec-websocket-accept': acceptFor(key) };
  const offer = 'permessage-deflate; client_max_window_bits';

  it.each([
    [
      'no subprotocol, no extension',
      {},
      [],
      undefined,
      { protocol: '', extensions: undefined, compressed: false },
    ],
    [
      'an offered subprotocol',
      { 'sec-websocket-protocol': 'v2' },
      ['v1', 'v2'],
      undefined,
      { protocol: 'v2', extensions: undefined, compressed: false },
    ],
    [
      'permessage-deflate',
      { 'sec-websocket-extensions': 'permessage-deflate; server_max_window_bits=10' },
      [],
      offer,
      {
        protocol: '',
        extensions: 'permessage-deflate; server_max_window_bits=10',
        compressed: true,
      },
    ],
    ['no Upgrade header', { upgrade: undefined }, [], undefined, 'Invalid Upgrade header'],
    [
      'a wrong accept value',
      { 'sec-websocket-accept': SAMPLE_ACCEPT },
      [],
      undefined,
      'Invalid Sec-WebSocket-Accept header',
    ],
    [
      'a subprotocol not offered',
      { 'sec-websocket-protocol': 'v3' },
      ['v1'],
      undefined,
      'Server sent an invalid subprotocol',
    ],
    [
      'a subprotocol when none was offered',
      { 'sec-websocket-protocol': 'v3' },
      [],
      undefined,
      'Server sent an invalid subprotocol',
    ],
    [
      'an extension not offered',
      { 'sec-websocket-extensions': 'permessage-deflate' },
      [],
      undefined,
      'Server indicated an extension that was not requested',
    ],
    [
      'another extension',
      { 'sec-websocket-extensions': 'x-foo' },
      [],
      offer,
      'Server indicated an extension that was not requested',
    ],
    [
      'permessage-deflate twice',
      { 'sec-websocket-extensions': 'permessage-deflate, permessage-deflate' },
      [],
      offer,
      'Server indicated an extension that was not requested',
    ],
  ])('%s', (_name, change, protocols, extensions, expected) => {
    expect(checkBackendAcceptance({ ...accepted, ...change }, key, protocols, extensions)).toEqual(
      expected,
    );
  });
});

describe('switchingProtocolsLines', () => {
  it('completes the client`s handshake with the backend`s subprotocol and extensions', () => {
    expect(
      switchingProtocolsLines(SAMPLE_KEY, {
        protocol: 'v2',
        extensions: 'permessage-deflate',
        compressed: true,
      }),
    ).toEqual([
      'HTTP/1.1 101 Switching Protocols',
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Accept: ${SAMPLE_ACCEPT}`,
      'Sec-WebSocket-Protocol: v2',
      'Sec-WebSocket-Extensions: permessage-deflate',
    ]);
    expect(
      switchingProtocolsLines(SAMPLE_KEY, {
        protocol: '',
        extensions: undefined,
        compressed: false,
      }),
    ).toHaveLength(4);
  });
});
