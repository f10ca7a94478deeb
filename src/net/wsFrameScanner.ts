// Reads the frame headers (RFC 6455 section 5.2) of one direction of a WebSocket connection as
// its bytes pass through a tunnel. Payload is skipped by counting; only a close frame's payload
// (its code and reason, at most 125 bytes) is read. Chunks are never modified or copied, and data
// frames allocate nothing: state lives in numeric fields and split headers in a 14-byte scratch
// area; a close frame's reason is decoded from a buffer made at the first close frame. Both
// buffers are made when first needed: an idle connection holds neither.

export interface FrameScannerOptions {
  /** Frames of this direction must be masked (client to server) or must not be (server to client). */
  readonly masked: boolean;
  /** Largest payload of one message, in bytes (compressed length with permessage-deflate); 0 = no limit. */
  readonly maxMessageSize: number;
  /** permessage-deflate was negotiated: RSV1 is allowed on the first frame of a data message. */
  readonly compressed?: boolean;
}

/** What one `scan` found; details are in the scanner's fields. */
export const ScanResult = {
  /** Nothing to act on: forward the chunk. */
  Ok: 0,
  /** A close frame ended in this chunk: see `closeCode` and `closeReason`. Forward the chunk. */
  Close: 1,
  /** See `violationCode` and `violationOffset`; every later scan returns it again (offset 0). */
  Violation: 2,
} as const;
export type ScanResult = (typeof ScanResult)[keyof typeof ScanResult];

export const CLOSE_PROTOCOL_ERROR = 1002;
export const CLOSE_NO_STATUS = 1005;
export const CLOSE_TOO_BIG = 1009;

const CONTINUATION = 0x0;
const CLOSE = 0x8;
const MAX_HEADER = 14;
/** The high 32 bits of 2^53 - 1: longer payloads cannot be counted exactly in a number. */
const MAX_SAFE_HIGH = 0x1fffff;

export class FrameScanner {
  /** Complete data messages (text or binary; a fragmented one counts once, at its final frame). */
  messages = 0;
  /** Data payload bytes (text, binary, continuation), counted as they pass. */
  bytes = 0;
  /** Complete control frames (ping, pong, close). */
  controlFrames = 0;
  /** The last close frame's code: 0 before any, 1005 for a close frame without payload. */
  closeCode = 0;
  /** The last close frame's reason, decoded as UTF-8 ('' when it has none). */
  closeReason = '';
  /** 1002 or 1009 once `scan` has returned `Violation`, else 0. */
  violationCode = 0;
  /**
   * Where the offending frame starts in the chunk of that `scan`: the bytes before it can be
   * forwarded. Negative when its header began in an earlier chunk (already forwarded).
   */
  violationOffset = 0;

  private readonly masked: boolean;
  private readonly maxMessageSize: number;
  private readonly compressed: boolean;
  private scratch: Buffer | undefined;
  /** Header bytes of the current frame held in `scratch` (0 unless a header was split). */
  private have = 0;
  /** Header length of the current frame once its first two bytes are known. */
  private need = 2;
  private opcode = 0;
  private fin = false;
  private length = 0;
  /** Payload bytes of the current frame still to pass. */
  private remaining = 0;
  /** A fragmented data message is in progress. */
  private inMessage = false;
  /** Payload length of the current data message so far, including the current frame. */
  private messageLength = 0;
  /** The current close frame's code so far, its masking key (big-endian) and its reason bytes. */
  private code = 0;
  private key = 0;
  private reason: Buffer | undefined;
  /** A close frame ended during the current `scan`. */
  private closeSeen = false;

  constructor(options: FrameScannerOptions) {
    this.masked = options.masked;
    this.maxMessageSize = options.maxMessageSize;
    this.compressed = options.compressed === true;
  }

  /** Between two frames: the proxy may write a frame of its own (a ping) here. */
  get atFrameBoundary(): boolean {
    return this.have === 0 && this.remaining === 0;
  }

  /** Between frames and not inside a fragmented message: the proxy may write a close frame. */
  get betweenMessages(): boolean {
    return this.atFrameBoundary && !this.inMessage;
  }

  /** Reads the next bytes of the stream, in any chunking. */
  scan(chunk: Buffer): ScanResult {
    if (this.violationCode !== 0) return this.fail(this.violationCode, 0);
    const end = chunk.length;
    let pos = 0;
    let frameStart = -this.have;
    while (pos < end) {
      if (this.remaining > 0) {
        if (this.opcode === CLOSE) {
          pos = this.readClose(chunk, pos, end);
          continue;
        }
        const take = Math.min(this.remaining, end - pos);
        pos += take;
        this.remaining -= take;
        if (this.opcode < CLOSE) this.bytes += take;
        if (this.remaining === 0) this.endFrame();
        continue;
      }
      let violation: number;
      if (this.have === 0) frameStart = pos;
      if (this.have === 0 && end - pos >= 2 && end - pos >= headerLength(chunk[pos + 1]!)) {
        violation = this.start(chunk[pos]!, chunk[pos + 1]!) || this.readLength(chunk, pos + 2);
        if (violation === 0) this.begin(chunk, pos + this.need - 4);
        pos += this.need;
      } else {
        // A split header: collected byte by byte, each part checked as soon as it is complete.
        const scratch = (this.scratch ??= Buffer.alloc(MAX_HEADER));
        const have = ++this.have;
        scratch[have - 1] = chunk[pos++]!;
        violation = have === 2 ? this.start(scratch[0]!, scratch[1]!) : 0;
        if (violation === 0 && have === this.need - (this.masked ? 4 : 0)) {
          violation = this.readLength(scratch, 2);
        }
        if (violation === 0 && have === this.need) {
          this.have = 0;
          this.begin(scratch, have - 4);
        }
      }
      if (violation !== 0) return this.fail(violation, frameStart);
    }
    if (!this.closeSeen) return ScanResult.Ok;
    this.closeSeen = false;
    return ScanResult.Close;
  }

  private fail(code: number, offset: number): ScanResult {
    this.violationCode = code;
    this.violationOffset = offset;
    return ScanResult.Violation;
  }

  /** Checks the first two header bytes; returns a close code for a violation, else 0. */
  private start(b0: number, b1: number): number {
    const opcode = b0 & 0x0f;
    const fin = (b0 & 0x80) !== 0;
    const rsv = b0 & 0x70;
    const len7 = b1 & 0x7f;
    this.opcode = opcode;
    this.fin = fin;
    this.need = headerLength(b1);
    if (((b1 & 0x80) !== 0) !== this.masked) return CLOSE_PROTOCOL_ERROR;
    if (opcode >= CLOSE) {
      if (opcode > 0xa || rsv !== 0 || !fin || len7 > 125) return CLOSE_PROTOCOL_ERROR;
      return opcode === CLOSE && len7 === 1 ? CLOSE_PROTOCOL_ERROR : 0;
    }
    if (opcode > 0x2 || (opcode === CONTINUATION) !== this.inMessage) return CLOSE_PROTOCOL_ERROR;
    const rsvAllowed = rsv === 0x40 && this.compressed && opcode !== CONTINUATION;
    return rsv === 0 || rsvAllowed ? 0 : CLOSE_PROTOCOL_ERROR;
  }

  /** Reads the payload length that follows the first two header bytes at `at` and checks it. */
  private readLength(buf: Buffer, at: number): number {
    const len7 = buf[at - 1]! & 0x7f;
    let length = len7;
    if (len7 === 126) length = (buf[at]! << 8) | buf[at + 1]!;
    else if (len7 === 127) {
      const high = buf.readUInt32BE(at);
      if (high > 0x7fffffff) return CLOSE_PROTOCOL_ERROR;
      if (high > MAX_SAFE_HIGH) return CLOSE_TOO_BIG;
      length = high * 0x100000000 + buf.readUInt32BE(at + 4);
    }
    this.length = length;
    if (this.opcode >= CLOSE) return 0;
    const total = (this.opcode === CONTINUATION ? this.messageLength : 0) + length;
    this.messageLength = total;
    return this.maxMessageSize > 0 && total > this.maxMessageSize ? CLOSE_TOO_BIG : 0;
  }

  /** Enters the payload of a checked header whose masking key (if any) ends at `keyAt + 4`. */
  private begin(buf: Buffer, keyAt: number): void {
    if (this.opcode < CLOSE) this.inMessage = !this.fin;
    this.remaining = this.length;
    if (this.opcode === CLOSE) {
      this.code = 0;
      this.key = this.masked ? buf.readUInt32BE(keyAt) : 0;
    }
    if (this.length === 0) this.endFrame();
  }

  /** Reads (unmasking) what is here of a close frame's payload: two code bytes, then the reason. */
  private readClose(chunk: Buffer, pos: number, end: number): number {
    const length = this.length;
    while (this.remaining > 0 && pos < end) {
      const index = length - this.remaining--;
      const byte = chunk[pos++]! ^ ((this.key >>> (24 - 8 * (index & 3))) & 0xff);
      if (index < 2) this.code = (this.code << 8) | byte;
      else (this.reason ??= Buffer.allocUnsafe(123))[index - 2] = byte;
    }
    if (this.remaining === 0) this.endFrame();
    return pos;
  }

  private endFrame(): void {
    if (this.opcode < CLOSE) {
      if (this.fin) this.messages++;
      return;
    }
    this.controlFrames++;
    if (this.opcode !== CLOSE) return;
    this.closeCode = this.length === 0 ? CLOSE_NO_STATUS : this.code;
    this.closeReason = this.length > 2 ? this.reason!.toString('utf8', 0, this.length - 2) : '';
    this.closeSeen = true;
  }
}

/** Header length in bytes from the second header byte (MASK bit and 7-bit length). */
function headerLength(b1: number): number {
  const len7 = b1 & 0x7f;
  return 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + ((b1 & 0x80) !== 0 ? 4 : 0);
}
