import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { TOKEN } from '../net/httpSyntax';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const KEY = /^[+/0-9A-Za-z]{22}==$/;
const PERMESSAGE_DEFLATE = 'permessage-deflate';

/** The `Sec-WebSocket-Accept` value that answers a `Sec-WebSocket-Key` (RFC 6455 section 4.2.2). */
export function acceptFor(key: string): string {
  return createHash('sha1')
    .update(key + GUID)
    .digest('base64');
}

/** Why a client's handshake is refused: the status, the body and any extra header lines. */
export interface HandshakeRefusal {
  readonly status: number;
  readonly message: string;
  readonly headers: readonly string[];
}

const refusal = (message: string, headers: readonly string[] = []): HandshakeRefusal => ({
  status: 400,
  message,
  headers,
});

/** A valid `Sec-WebSocket-Protocol` offer: comma-separated tokens, none twice. */
function validProtocolOffer(header: string): boolean {
  const names = header.split(',').map((name) => name.replace(/^[ \t]+|[ \t]+$/g, ''));
  return names.every((name) => TOKEN.test(name)) && new Set(names).size === names.length;
}

/**
 * The client handshake checks a WebSocket server makes (the same as the `ws` library's, with its
 * messages), past the method and the Upgrade and Connection tokens the front end already checked;
 * undefined when the handshake can be completed.
 */
export function clientHandshakeRefusal(headers: IncomingHttpHeaders): HandshakeRefusal | undefined {
  if (headers.upgrade?.toLowerCase() !== 'websocket') return refusal('Invalid Upgrade header');
  const key = headers['sec-websocket-key'];
  if (key === undefined || !KEY.test(key)) {
    return refusal('Missing or invalid Sec-WebSocket-Key header');
  }
  const version = Number(headers['sec-websocket-version']);
  if (version !== 13 && version !== 8) {
    return refusal('Missing or invalid Sec-WebSocket-Version header', [
      'Sec-WebSocket-Version',
      '13, 8',
    ]);
  }
  const protocols = headers['sec-websocket-protocol'];
  if (protocols !== undefined && !validProtocolOffer(protocols)) {
    return refusal('Invalid Sec-WebSocket-Protocol header');
  }
  return undefined;
}

/** The extension names in a `Sec-WebSocket-Extensions` value, in order (parameters left out). */
function extensionNames(header: string): string[] {
  return header.split(',').map((offer) => (offer.split(';')[0] ?? '').trim().toLowerCase());
}

/**
 * The client's permessage-deflate offers, as it wrote them, for the backend; undefined when there
 * are none. Other extensions are left out: the tunnel would not know their frames' reserved bits.
 */
export function deflateOffer(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const offers = header
    .split(',')
    .filter((offer) => (offer.split(';')[0] ?? '').trim().toLowerCase() === PERMESSAGE_DEFLATE);
  return offers.length === 0 ? undefined : offers.map((offer) => offer.trim()).join(', ');
}

/** A backend's accepted handshake as the tunnel needs it. */
export interface BackendAcceptance {
  /** The subprotocol the backend chose ('' for none). */
  readonly protocol: string;
  /** The backend's `Sec-WebSocket-Extensions` answer, passed to the client unchanged. */
  readonly extensions: string | undefined;
  /** permessage-deflate was negotiated: the first frame of a message may carry RSV1. */
  readonly compressed: boolean;
}

/**
 * Checks a backend's 101 against the handshake the proxy sent (the checks a WebSocket client
 * makes): a string says what is wrong with it.
 */
export function checkBackendAcceptance(
  headers: IncomingHttpHeaders,
  key: string,
  offeredProtocols: readonly string[],
  offeredExtensions: string | undefined,
): BackendAcceptance | string {
  if (headers.upgrade?.toLowerCase() !== 'websocket') return 'Invalid Upgrade header';
  if (headers['sec-websocket-accept'] !== acceptFor(key)) {
    return 'Invalid Sec-WebSocket-Accept header';
  }
  const protocol = headers['sec-websocket-protocol'];
  if (protocol !== undefined && !offeredProtocols.includes(protocol)) {
    return 'Server sent an invalid subprotocol';
  }
  const extensions = headers['sec-websocket-extensions'];
  if (extensions !== undefined) {
    const names = extensionNames(extensions);
    const deflate = names.every((name) => name === PERMESSAGE_DEFLATE);
    if (offeredExtensions === undefined || !deflate || names.length !== 1) {
      return 'Server indicated an extension that was not requested';
    }
  }
  return { protocol: protocol ?? '', extensions, compressed: extensions !== undefined };
}

/** The head of the 101 that completes a client's handshake, as lines without line ends. */
export function switchingProtocolsLines(key: string, accepted: BackendAcceptance): string[] {
  const lines = [
    'HTTP/1.1 101 Switching Protocols',
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Accept: ${acceptFor(key)}`,
  ];
  if (accepted.protocol !== '') lines.push(`Sec-WebSocket-Protocol: ${accepted.protocol}`);
  if (accepted.extensions !== undefined) {
    lines.push(`Sec-WebSocket-Extensions: ${accepted.extensions}`);
  }
  return lines;
}
