import type { ServerHttp2Stream } from 'node:http2';
import { constants } from 'node:http2';
import { Duplex } from 'node:stream';
import { http2ResponseHead } from '../forwarding/h2Headers';

const HEAD_END = Buffer.from('\r\n\r\n');
/** A response head is the relay's own (a 101 or a refusal): far below this. */
const MAX_HEAD = 64 * 1024;

/**
 * A WebSocket client over HTTP/2 (RFC 8441) as the WebSocket relay sees every client: a duplex
 * connection. What the relay writes first is the HTTP/1.1 response head it writes to any client
 * (the 101, or a refusal with its body); it becomes the stream's response HEADERS, 101 turned
 * into 200. After it, bytes are the stream's DATA both ways, with the stream's flow control as
 * backpressure.
 */
export class ExtendedConnectSocket extends Duplex {
  /** Bytes of the response head until it is complete; undefined once responded. */
  private head: Buffer | undefined = Buffer.alloc(0);

  constructor(private readonly stream: ServerHttp2Stream) {
    super();
    stream.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) stream.pause();
    });
    stream.on('end', () => this.push(null));
    stream.on('error', (error: Error) => this.destroy(error));
    stream.on('close', () => this.destroy());
    stream.pause();
  }

  override _read(): void {
    this.stream.resume();
  }

  override _write(
    chunk: Buffer,
    _encoding: BufferEncoding,
    done: (error?: Error | null) => void,
  ): void {
    if (this.head === undefined) {
      this.stream.write(chunk, done);
      return;
    }
    const bytes = this.head.length === 0 ? chunk : Buffer.concat([this.head, chunk]);
    const end = bytes.indexOf(HEAD_END);
    if (end < 0) {
      this.head = bytes;
      done(bytes.length > MAX_HEAD ? new Error('response head too large') : undefined);
      return;
    }
    this.head = undefined;
    const parsed = http2ResponseHead(bytes.subarray(0, end).toString('latin1'));
    if (!parsed) {
      done(new Error('not an HTTP/1.1 response head'));
      return;
    }
    if (this.stream.destroyed) {
      done();
      return;
    }
    this.stream.respond({ ...parsed.headers, ':status': parsed.status });
    const body = bytes.subarray(end + HEAD_END.length);
    if (body.length === 0) done();
    else this.stream.write(body, done);
  }

  override _final(done: (error?: Error | null) => void): void {
    if (this.stream.destroyed) done();
    else this.stream.end(() => done());
  }

  override _destroy(error: Error | null, done: (error: Error | null) => void): void {
    if (!this.stream.destroyed) {
      this.stream.close(error ? constants.NGHTTP2_INTERNAL_ERROR : constants.NGHTTP2_NO_ERROR);
    }
    done(error);
  }
}
