import { randomFillSync } from 'node:crypto';

// The frames the proxy writes itself into a tunnel: pings and closes. Toward a client they are
// unmasked, toward a backend masked with a random key (RFC 6455 section 5.3). Each is a new buffer:
// a socket may keep a written buffer queued, so one buffer cannot be reused for the next frame.

const PING = 0x9;
const CLOSE = 0x8;
/** A close frame's payload is at most 125 bytes: the code and 123 bytes of reason. */
const MAX_REASON = 123;

function controlFrame(opcode: number, payload: Buffer, masked: boolean): Buffer {
  const header = masked ? 6 : 2;
  const frame = Buffer.allocUnsafe(header + payload.length);
  frame[0] = 0x80 | opcode;
  frame[1] = (masked ? 0x80 : 0) | payload.length;
  if (!masked) {
    payload.copy(frame, 2);
    return frame;
  }
  randomFillSync(frame, 2, 4);
  for (let i = 0; i < payload.length; i++) frame[6 + i] = payload[i]! ^ frame[2 + (i & 3)]!;
  return frame;
}

/** A ping without payload. */
export function pingFrame(masked: boolean): Buffer {
  return controlFrame(PING, Buffer.alloc(0), masked);
}

/** A close frame with this code and reason (cut to 123 bytes, between characters). */
export function closeFrame(code: number, reason: string, masked: boolean): Buffer {
  const payload = Buffer.alloc(2 + MAX_REASON);
  payload.writeUInt16BE(code, 0);
  const written = payload.write(reason, 2, MAX_REASON);
  return controlFrame(CLOSE, payload.subarray(0, 2 + written), masked);
}
