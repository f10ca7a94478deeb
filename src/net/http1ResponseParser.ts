import { TOKEN_CHARS } from './httpSyntax';

/** A response head as the backend sent it. */
export interface ResponseHead {
  /** The final status (1xx heads are read past). */
  readonly status: number;
  /** The reason phrase; '' when the status line has none. */
  readonly statusText: string;
  /** `[name, value, ...]` in order, case and repeats kept, values trimmed of spaces and tabs. */
  readonly rawHeaders: string[];
  /** The connection may carry another request after this response. */
  readonly keepAlive: boolean;
  /** How long the backend keeps the connection open when idle (`Keep-Alive: timeout=N`), in ms. */
  readonly keepAliveMs: number | undefined;
}

/** Where a parsed response goes. `false` from onHead or onBody pauses the parser there. */
export interface ResponseSink {
  onHead(head: ResponseHead): boolean;
  onBody(chunk: Buffer): boolean;
  /** `extraBytes`: the backend sent bytes past the end of its response. */
  onEnd(trailers: string[], extraBytes: boolean): void;
}

/** A response that is not HTTP/1.1 as a proxy may relay it; `code` names the fault as llhttp does. */
export class ResponseParseError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

type State =
  'idle' | 'head' | 'length' | 'chunkSize' | 'chunkData' | 'chunkEnd' | 'trailers' | 'untilClose';

const CR = 13;
const LF = 10;
/** Control characters a reason phrase may not hold (tab is allowed; RFC 9110 5.5). */
// eslint-disable-next-line no-control-regex -- finding control characters is its purpose
const CONTROL = /[\0-\x08\x0a-\x1f\x7f]/;
const HEX = /^[0-9A-Fa-f]+$/;
/** Longest chunk-size line (with extensions) accepted. */
const MAX_CHUNK_LINE = 4096;
const KEEP_ALIVE_TIMEOUT = /timeout=(\d+)/i;

/** Worded as undici worded its parser's errors, so that logs read the same. */
function fault(code: string, detail: string): ResponseParseError {
  const message =
    code === 'UND_ERR_HEADERS_OVERFLOW'
      ? detail
      : `Response does not match the HTTP/1.1 protocol (${detail})`;
  return new ResponseParseError(code, message);
}

/** The value without the spaces and tabs around it (RFC 9110 5.5). */
function trimOws(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && (value.charCodeAt(start) === 32 || value.charCodeAt(start) === 9)) start++;
  while (end > start && (value.charCodeAt(end - 1) === 32 || value.charCodeAt(end - 1) === 9))
    end--;
  return start === 0 && end === value.length ? value : value.slice(start, end);
}

/** One to 15 decimal digits and nothing else. */
function isDigits(text: string): boolean {
  if (text.length === 0 || text.length > 15) return false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 48 || code > 57) return false;
  }
  return true;
}

/** Whether a comma-separated header value lists `token` (lowercase), in any case. */
function listsToken(value: string, token: string): boolean {
  const lower = value.toLowerCase();
  if (lower === token) return true;
  if (!lower.includes(token)) return false;
  return lower.split(',').some((item) => item.trim() === token);
}

/** A `Content-Length` value: digits, or a list of the same digits (RFC 9110 8.6). */
function contentLengthOf(value: string, previous: number | undefined): number {
  if (previous === undefined && isDigits(value)) return Number(value);
  let length: number | undefined;
  for (const item of value.includes(',') ? value.split(',') : [value]) {
    const digits = item.trim();
    if (!isDigits(digits)) {
      throw fault('HPE_INVALID_CONTENT_LENGTH', `invalid Content-Length "${value}"`);
    }
    const next = Number(digits);
    if (length !== undefined && next !== length) {
      throw fault('HPE_UNEXPECTED_CONTENT_LENGTH', 'differing Content-Length values');
    }
    length = next;
  }
  if (previous !== undefined && previous !== length) {
    throw fault('HPE_UNEXPECTED_CONTENT_LENGTH', 'differing Content-Length values');
  }
  return length ?? 0;
}

/** The status line's parts; anything but `HTTP/1.x NNN[ reason]` is refused. */
function statusLine(line: string): { status: number; statusText: string; http10: boolean } {
  const minor = line.charCodeAt(7);
  const valid =
    line.length >= 12 &&
    line.startsWith('HTTP/1.') &&
    (minor === 48 || minor === 49) &&
    line.charCodeAt(8) === 32 &&
    (line.length === 12 || line.charCodeAt(12) === 32) &&
    isDigits(line.slice(9, 12));
  const status = valid ? Number(line.slice(9, 12)) : 0;
  if (status < 100) {
    throw fault('HPE_INVALID_CONSTANT', `not an HTTP/1.x status line: "${line.slice(0, 40)}"`);
  }
  const statusText = line.length > 13 ? line.slice(13) : '';
  if (CONTROL.test(statusText)) throw fault('HPE_INVALID_STATUS', 'control character in reason');
  return { status, statusText, http10: minor === 48 };
}

const VERSION_PREFIX = Buffer.from('HTTP/1.', 'latin1');
const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');

/**
 * Refuses an unfinished head whose start already cannot be a status line, rather than waiting
 * for an end that a backend talking something else may never send.
 */
function checkHeadStart(source: Buffer, start: number): void {
  const available = Math.min(source.length - start, VERSION_PREFIX.length);
  if (source.compare(VERSION_PREFIX, 0, available, start, start + available) !== 0) {
    throw fault('HPE_INVALID_CONSTANT', 'expected HTTP/');
  }
  const lineEnd = source.indexOf('\r\n', start, 'latin1');
  if (lineEnd >= 0) statusLine(source.toString('latin1', start, lineEnd));
}

/**
 * An incremental HTTP/1.1 response reader for one upstream connection: one response per
 * `begin`, framed as RFC 9112 6.3 says (HEAD, 1xx, 204 and 304 carry no body; chunked; a
 * Content-Length; else until the connection closes). Body bytes are handed on as slices of the
 * input, not copied; only heads, chunk-size lines and trailers are read as text. A response
 * ends (onEnd) as soon as its last byte is read, even while the sink has paused.
 */
export class Http1ResponseParser {
  private state: State = 'idle';
  private noBody = false;
  /** The start of a head or line whose end has not arrived yet. */
  private partial: Buffer | undefined;
  /** Body bytes left: of the Content-Length, or of the current chunk; CR seen in `chunkEnd`. */
  private remaining = 0;
  /** Made when the first trailer arrives: most responses have none. */
  private trailers: string[] | undefined;
  private trailerBytes = 0;
  /** The sink let parsing go on after the head. */
  private goOn = true;

  constructor(
    private readonly sink: ResponseSink,
    private readonly maxHeadSize: number,
  ) {}

  /** Whether a response is being read: between begin() and its end. */
  get active(): boolean {
    return this.state !== 'idle';
  }

  /** Readies the parser for the response to a request of `method`. */
  begin(method: string): void {
    this.state = 'head';
    this.noBody = method === 'HEAD';
    this.partial = undefined;
    this.remaining = 0;
    this.trailers = undefined;
    this.trailerBytes = 0;
  }

  /**
   * Reads `data`; returns how much of it was used: all of it, or less when the sink paused
   * (continue with the rest) or the response ended (the rest lies past it).
   */
  execute(data: Buffer): number {
    let offset = 0;
    const length = data.length;
    while (offset < length) {
      switch (this.state) {
        case 'idle':
          return offset;
        case 'head': {
          const used = this.readHead(data, offset);
          if (used < 0) return length;
          offset += used;
          if (this.state === 'head') continue; // an interim (1xx) response was read
          if (this.state === 'idle') return this.end(offset, length);
          if (!this.goOn) return offset;
          continue;
        }
        case 'length': {
          const take = Math.min(this.remaining, length - offset);
          const chunk = take === length ? data : data.subarray(offset, offset + take);
          offset += take;
          this.remaining -= take;
          const more = this.sink.onBody(chunk);
          if (this.remaining === 0) return this.end(offset, length);
          if (!more) return offset;
          continue;
        }
        case 'untilClose':
          this.sink.onBody(offset === 0 ? data : data.subarray(offset));
          return length;
        case 'chunkSize': {
          const line = this.readLine(data, offset, MAX_CHUNK_LINE);
          if (line === undefined) return length;
          offset += this.lineUsed;
          this.onChunkSize(line);
          continue;
        }
        case 'chunkData': {
          const take = Math.min(this.remaining, length - offset);
          const chunk = data.subarray(offset, offset + take);
          offset += take;
          this.remaining -= take;
          if (this.remaining === 0) this.state = 'chunkEnd';
          if (!this.sink.onBody(chunk)) return offset;
          continue;
        }
        case 'chunkEnd': {
          const expected = this.remaining === 0 ? CR : LF;
          if (data[offset] !== expected) throw fault('HPE_STRICT', 'no CRLF after chunk data');
          offset++;
          if (expected === CR) this.remaining = 1;
          else {
            this.remaining = 0;
            this.state = 'chunkSize';
          }
          continue;
        }
        case 'trailers': {
          const line = this.readLine(data, offset, this.maxHeadSize - this.trailerBytes);
          if (line === undefined) return length;
          offset += this.lineUsed;
          this.trailerBytes += this.lineUsed;
          if (line === '') return this.end(offset, length);
          this.onTrailer(line);
          continue;
        }
      }
    }
    return offset;
  }

  /**
   * The connection closed: true when that completes the response (a body read until close),
   * after telling the sink; false when the response was cut short.
   */
  finish(): boolean {
    if (this.state !== 'untilClose') return false;
    this.end(0, 0);
    return true;
  }

  private end(offset: number, length: number): number {
    this.state = 'idle';
    const trailers = this.trailers ?? [];
    this.trailers = undefined;
    this.sink.onEnd(trailers, offset < length);
    return offset;
  }

  /**
   * Reads a head from `offset`, joined to what earlier input held of it. Returns the bytes of
   * `data` used, or -1 when all of it went into an unfinished head.
   */
  private readHead(data: Buffer, offset: number): number {
    const partial = this.partial;
    let source = data;
    let start = offset;
    let searchFrom = offset;
    if (partial) {
      source = Buffer.concat([partial, data.subarray(offset)]);
      start = 0;
      searchFrom = Math.max(0, partial.length - 3);
    }
    const end = source.indexOf(HEAD_END, searchFrom);
    if ((end < 0 ? source.length : end + 4) - start > this.maxHeadSize) {
      throw fault('UND_ERR_HEADERS_OVERFLOW', 'response headers too large');
    }
    if (end < 0) {
      checkHeadStart(source, start);
      if (source.includes('\n\n', searchFrom, 'latin1')) {
        throw fault('HPE_STRICT', 'header lines end without CR');
      }
      this.partial = partial ? source : Buffer.from(data.subarray(offset));
      return -1;
    }
    this.partial = undefined;
    this.onHead(source.toString('latin1', start, end));
    return partial ? end + 4 - partial.length : end + 4 - offset;
  }

  private onHead(text: string): void {
    let lineEnd = text.indexOf('\r\n');
    if (lineEnd < 0) lineEnd = text.length;
    const { status, statusText, http10 } = statusLine(text.slice(0, lineEnd));
    const rawHeaders: string[] = [];
    readFields(text, lineEnd + 2, rawHeaders);
    let contentLength: number | undefined;
    let chunked = false;
    let transferEncoding = false;
    let connectionClose = false;
    let connectionKeepAlive = false;
    let keepAliveMs: number | undefined;
    for (let i = 0; i < rawHeaders.length; i += 2) {
      const name = rawHeaders[i] ?? '';
      const value = rawHeaders[i + 1] ?? '';
      switch (name.length) {
        case 10: {
          const lower = name === 'Connection' ? 'connection' : name.toLowerCase();
          if (lower === 'connection') {
            if (value === 'keep-alive') connectionKeepAlive = true;
            else if (value === 'close') connectionClose = true;
            else {
              if (listsToken(value, 'close')) connectionClose = true;
              if (listsToken(value, 'keep-alive')) connectionKeepAlive = true;
            }
          } else if (lower === 'keep-alive') {
            const timeout = KEEP_ALIVE_TIMEOUT.exec(value)?.[1];
            if (timeout !== undefined) keepAliveMs = Number(timeout) * 1000;
          }
          break;
        }
        case 14:
          if (name === 'content-length' || name.toLowerCase() === 'content-length') {
            contentLength = contentLengthOf(value, contentLength);
          }
          break;
        case 17:
          if (name.toLowerCase() === 'transfer-encoding') {
            transferEncoding = true;
            const codings = value.toLowerCase().split(',');
            chunked = codings[codings.length - 1]?.trim() === 'chunked';
          }
          break;
      }
    }
    if (status < 200) {
      if (status === 101) throw fault('HPE_INVALID_STATUS', 'unexpected 101 Switching Protocols');
      return; // an interim response: the final one follows
    }
    if (transferEncoding && contentLength !== undefined) {
      throw fault('HPE_UNEXPECTED_CONTENT_LENGTH', 'both Transfer-Encoding and Content-Length');
    }
    let keepAlive = http10 ? connectionKeepAlive && !connectionClose : !connectionClose;
    if (this.noBody || status === 204 || status === 304) {
      this.state = 'idle';
    } else if (chunked) {
      this.state = 'chunkSize';
    } else if (!transferEncoding && contentLength !== undefined) {
      this.state = contentLength === 0 ? 'idle' : 'length';
      this.remaining = contentLength;
    } else {
      this.state = 'untilClose';
      keepAlive = false;
    }
    this.goOn = this.sink.onHead({ status, statusText, rawHeaders, keepAlive, keepAliveMs });
  }

  /** Bytes of the input the last complete line from readLine used, its CRLF included. */
  private lineUsed = 0;

  /**
   * A CRLF-terminated line from `offset`, joined to the start kept from earlier input; undefined
   * (the input kept) when its end has not arrived. Longer than `max` bytes: a fault.
   */
  private readLine(data: Buffer, offset: number, max: number): string | undefined {
    const lf = data.indexOf(LF, offset);
    const partial = this.partial;
    const had = partial?.length ?? 0;
    if (lf < 0) {
      if (had + data.length - offset > max) throw fault('HPE_INVALID_CHUNK_SIZE', 'line too long');
      this.partial = partial
        ? Buffer.concat([partial, data.subarray(offset)])
        : Buffer.from(data.subarray(offset));
      return undefined;
    }
    const used = lf + 1 - offset;
    if (had + used > max) throw fault('HPE_INVALID_CHUNK_SIZE', 'line too long');
    const crBefore = lf > offset ? data[lf - 1] === CR : partial?.[had - 1] === CR;
    if (!crBefore) throw fault('HPE_STRICT', 'line ends without CR');
    this.partial = undefined;
    this.lineUsed = used;
    const text = (partial ? partial.toString('latin1') : '') + data.toString('latin1', offset, lf);
    return text.slice(0, -1);
  }

  private onChunkSize(line: string): void {
    const semicolon = line.indexOf(';');
    const digits = trimOws(semicolon < 0 ? line : line.slice(0, semicolon));
    if (!HEX.test(digits) || digits.length > 12) {
      throw fault('HPE_INVALID_CHUNK_SIZE', `invalid chunk size "${line.slice(0, 40)}"`);
    }
    const size = parseInt(digits, 16);
    if (size === 0) {
      this.state = 'trailers';
      return;
    }
    this.remaining = size;
    this.state = 'chunkData';
  }

  private onTrailer(line: string): void {
    readFields(line, 0, (this.trailers ??= []));
  }
}

/**
 * Reads the `name: value` lines of `text` from `position` to its end (lines separated by CRLF)
 * into `into`, in one pass over the characters: a name must be a token followed by a colon (no
 * space before it, no obs-fold), a value is trimmed of spaces and tabs and may hold no control
 * character but tab (so no bare CR or LF either).
 */
function readFields(text: string, position: number, into: string[]): void {
  const length = text.length;
  let i = position;
  while (i < length) {
    const nameStart = i;
    let code = text.charCodeAt(i);
    while (code < 128 && TOKEN_CHARS[code] === 1) code = text.charCodeAt(++i);
    if (i === nameStart || code !== 58) {
      const end = text.indexOf('\r\n', nameStart);
      const line = text.slice(nameStart, end < 0 ? length : end);
      throw fault('HPE_INVALID_HEADER_TOKEN', `invalid header line "${line.slice(0, 40)}"`);
    }
    const name = text.slice(nameStart, i);
    i++;
    while (i < length && ((code = text.charCodeAt(i)) === 32 || code === 9)) i++;
    const valueStart = i;
    let valueEnd = i;
    while (i < length) {
      code = text.charCodeAt(i);
      if (code === 13) break;
      if ((code < 32 && code !== 9) || code === 127) {
        throw fault('HPE_INVALID_HEADER_TOKEN', `invalid character in header ${name}`);
      }
      i++;
      if (code !== 32 && code !== 9) valueEnd = i;
    }
    if (i < length && text.charCodeAt(i + 1) !== 10) {
      throw fault('HPE_INVALID_HEADER_TOKEN', `invalid character in header ${name}`);
    }
    into.push(name, text.slice(valueStart, valueEnd));
    i += 2;
  }
}
