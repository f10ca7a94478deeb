import type { IncomingMessage } from 'node:http';
import { maxHeaderSize } from 'node:http';
import type { Socket } from 'node:net';
import { upstreamError } from '../forwarding/failures';
import {
  Http1ResponseParser,
  type ResponseHead,
  type ResponseSink,
} from '../net/http1ResponseParser';
import { INVALID_FIELD_VALUE, TOKEN } from '../net/httpSyntax';

/** One request for a backend, its headers already those the backend should see. */
export interface UpstreamRequest {
  readonly method: string;
  readonly path: string;
  /** `[name, value, ...]`; Host is added (the backend's address) when absent. */
  readonly headers: readonly string[];
  /** A body read whole, or the client's request to stream from; null: none. */
  readonly body: Buffer | IncomingMessage | null;
  /** How long the backend may take to start its response, and to send each piece of it. */
  readonly timeoutMs: number;
  /**
   * The method, target and headers came from Node's HTTP/1.1 parser, which refuses everything
   * the checks here refuse, with only the proxy's own headers added: they are not checked again.
   */
  readonly checkedByParser: boolean;
}

/** What follows one request on its connection; `false` from onHeaders or onData pauses it. */
export interface UpstreamHandler {
  /** Called at dispatch with the way to give up on the request (it ends with onError). */
  onConnect(abort: (error: Error) => void): void;
  onHeaders(status: number, rawHeaders: string[], resume: () => void, statusText: string): boolean;
  onData(chunk: Buffer): boolean;
  /** `reusable`: the connection may carry another request. */
  onComplete(trailers: string[], reusable: boolean): void;
  onError(error: Error): void;
}

/** A request target's characters: visible, no spaces or controls. */
const INVALID_PATH = /[^\u0021-\u00ff]/;
/** Methods whose requests carry a body by definition: without one they say Content-Length: 0. */
const EXPECTS_BODY = new Set(['POST', 'PUT', 'PATCH']);

/**
 * A connection idle this much less than the backend's `Keep-Alive: timeout` is closed by the
 * proxy first, so that no request goes out on one the backend is closing (undici's margin).
 */
const KEEP_ALIVE_MARGIN_MS = 2000;

const CRLF = '\r\n';
const LAST_CHUNK = '0\r\n\r\n';

/**
 * HTTP/1.1 on one upstream connection, one request at a time: writes the request (a body read
 * whole in the same write as the head, a streamed one with backpressure, chunked when its length
 * is unknown), reads the response with `Http1ResponseParser` and hands it to the request's
 * handler. Failure codes are those undici gave (UND_ERR_SOCKET, UND_ERR_HEADERS_TIMEOUT,
 * UND_ERR_BODY_TIMEOUT, UND_ERR_HEADERS_OVERFLOW, UND_ERR_INVALID_ARG) and the parser's HPE_*
 * codes, so logs and retry rules read the same. The socket's owner reports its close.
 */
export class Http1Connection implements ResponseSink {
  private readonly parser = new Http1ResponseParser(this, maxHeaderSize);
  private handler: UpstreamHandler | undefined;
  /** Input kept while the handler has paused the response. */
  private held: Buffer | undefined;
  private paused = false;
  private keepAlive = true;
  private keepAliveMs: number | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private idleMs = 0;
  private bodyStream: IncomingMessage | undefined;
  private chunkedBody = false;
  private bodySent = true;
  private timer: NodeJS.Timeout | undefined;
  private timerMs = 0;
  private inBody = false;
  private closed = false;

  constructor(
    private readonly socket: Socket,
    /** Host for requests without one: the backend's `host:port`. */
    private readonly defaultHost: string,
  ) {
    socket.on('data', this.onSocketData);
    socket.on('end', this.onSocketEnd);
  }

  dispatch(request: UpstreamRequest, handler: UpstreamHandler): void {
    const head = this.closed ? undefined : requestHead(request, this.defaultHost);
    if (typeof head !== 'string') {
      handler.onError(head ?? upstreamError('WORKER_CLOSED', 'upstream connection closed'));
      return;
    }
    this.handler = handler;
    this.keepAlive = true;
    this.paused = false;
    this.held = undefined;
    this.inBody = false;
    this.parser.begin(request.method);
    this.armTimer(request.timeoutMs);
    handler.onConnect((error) => {
      if (this.handler === handler) this.fail(error);
    });
    if (this.handler !== handler) return;
    const { body } = request;
    const socket = this.socket;
    if (body === null) {
      this.bodySent = true;
      socket.write(head, 'latin1');
    } else if (Buffer.isBuffer(body)) {
      this.bodySent = true;
      socket.cork();
      socket.write(head, 'latin1');
      socket.write(body);
      socket.uncork();
    } else {
      this.bodySent = false;
      this.chunkedBody = head.endsWith(CHUNKED_HEAD_END);
      socket.write(head, 'latin1');
      this.streamBody(body);
    }
  }

  /** Stops everything and closes the socket; the request in flight, if any, is not told. */
  close(): void {
    this.closed = true;
    this.handler = undefined;
    this.stopBody();
    this.clearTimer();
    this.socket.destroy();
  }

  /** The socket closed: the request in flight fails with its error (or `other side closed`). */
  socketClosed(error: Error | undefined): void {
    this.closed = true;
    this.clearTimer();
    this.inputEnded(error);
  }

  onHead(head: ResponseHead): boolean {
    const handler = this.handler;
    if (!handler) return false;
    this.keepAlive = head.keepAlive;
    this.keepAliveMs = head.keepAliveMs;
    this.inBody = true;
    this.timer?.refresh();
    const resume = (): void => {
      if (this.handler === handler) this.resume();
    };
    const goOn = handler.onHeaders(head.status, head.rawHeaders, resume, head.statusText);
    if (!goOn) this.paused = true;
    return goOn && this.handler === handler;
  }

  onBody(chunk: Buffer): boolean {
    const handler = this.handler;
    if (!handler) return false;
    this.timer?.refresh();
    const goOn = handler.onData(chunk);
    if (!goOn) this.paused = true;
    return goOn && this.handler === handler;
  }

  onEnd(trailers: string[], extraBytes: boolean): void {
    const handler = this.handler;
    if (!handler) return;
    this.handler = undefined;
    this.inBody = false;
    // A request body still going up when the response ended leaves the connection mid-request.
    let reusable = this.keepAlive && this.bodySent && !extraBytes && !this.closed;
    if (reusable && this.keepAliveMs !== undefined)
      reusable = this.closeWhenIdleFor(this.keepAliveMs);
    this.stopBody();
    if (!reusable) this.closed = true;
    handler.onComplete(trailers, reusable);
  }

  /** Arms the idle timer for the backend's keep-alive hint; false when the hint is too short. */
  private closeWhenIdleFor(hintMs: number): boolean {
    const ms = hintMs - KEEP_ALIVE_MARGIN_MS;
    if (ms <= 0) return false;
    if (this.idleTimer && this.idleMs === ms) {
      this.idleTimer.refresh();
      return true;
    }
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleMs = ms;
    this.idleTimer = setTimeout(this.onIdleTimeout, ms);
    this.idleTimer.unref();
    return true;
  }

  private readonly onIdleTimeout = (): void => {
    // Busy again: the timer is refreshed when that response ends.
    if (!this.handler) this.close();
  };

  private readonly onSocketData = (data: Buffer): void => {
    if (!this.handler) {
      // Nothing was asked: a backend that talks out of turn cannot be trusted with the next request.
      this.close();
      return;
    }
    this.consume(data);
  };

  private consume(data: Buffer): void {
    let used: number;
    try {
      used = this.parser.execute(data);
    } catch (error) {
      this.fail(error as Error);
      return;
    }
    if (used < data.length && this.handler && this.paused) {
      this.held = data.subarray(used);
      this.socket.pause();
    } else if (this.paused && this.handler) {
      this.socket.pause();
    }
  }

  private resume(): void {
    if (!this.paused) return;
    this.paused = false;
    const held = this.held;
    this.held = undefined;
    if (held) this.consume(held);
    if (!this.paused && !this.closed) this.socket.resume();
  }

  private readonly onSocketEnd = (): void => {
    this.inputEnded(undefined);
  };

  /** No more bytes will come: that ends a body read until close, or fails the request. */
  private inputEnded(error: Error | undefined): void {
    if (!this.handler || this.parser.finish()) return;
    this.fail(error ?? upstreamError('UND_ERR_SOCKET', 'other side closed'));
  }

  private fail(error: Error): void {
    const handler = this.handler;
    this.close();
    handler?.onError(error);
  }

  private streamBody(body: IncomingMessage): void {
    this.bodyStream = body;
    body.on('data', this.onBodyData);
    body.on('end', this.onBodyEnd);
    body.on('error', this.onBodyError);
    body.on('close', this.onBodyClose);
    this.socket.on('drain', this.onDrain);
    body.resume();
  }

  private stopBody(): void {
    const body = this.bodyStream;
    if (!body) return;
    this.bodyStream = undefined;
    body.off('data', this.onBodyData);
    body.off('end', this.onBodyEnd);
    body.off('error', this.onBodyError);
    body.off('close', this.onBodyClose);
    this.socket.off('drain', this.onDrain);
  }

  private readonly onBodyData = (chunk: Buffer): void => {
    // Upload progress: the response's time starts once the backend has the request.
    if (!this.inBody) this.timer?.refresh();
    const socket = this.socket;
    let flushed: boolean;
    if (this.chunkedBody) {
      socket.cork();
      socket.write(chunk.length.toString(16) + CRLF, 'latin1');
      socket.write(chunk);
      flushed = socket.write(CRLF, 'latin1');
      socket.uncork();
    } else {
      flushed = socket.write(chunk);
    }
    if (!flushed) this.bodyStream?.pause();
  };

  private readonly onDrain = (): void => {
    this.bodyStream?.resume();
  };

  private readonly onBodyEnd = (): void => {
    if (this.chunkedBody) this.socket.write(LAST_CHUNK, 'latin1');
    this.bodySent = true;
    this.stopBody();
  };

  private readonly onBodyError = (error: Error): void => {
    this.fail(error);
  };

  private readonly onBodyClose = (): void => {
    if (this.bodyStream?.readableEnded === false) {
      this.fail(upstreamError('CLIENT_CLOSED', 'client closed the request body'));
    }
  };

  /** One timer per connection, refreshed rather than made anew for each request. */
  private armTimer(ms: number): void {
    if (this.timer && this.timerMs === ms) {
      this.timer.refresh();
      return;
    }
    this.clearTimer();
    this.timerMs = ms;
    this.timer = setTimeout(this.onTimeout, ms);
    this.timer.unref();
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }

  private readonly onTimeout = (): void => {
    if (!this.handler) return;
    // A paused response waits for the client, not for the backend; so does a request body the
    // client is still sending (its own body_timeout bounds that).
    if (this.paused || (!this.bodySent && !this.inBody)) {
      this.timer?.refresh();
      return;
    }
    this.fail(
      this.inBody
        ? upstreamError('UND_ERR_BODY_TIMEOUT', 'body timeout')
        : upstreamError('UND_ERR_HEADERS_TIMEOUT', 'headers timeout'),
    );
  };
}

const CHUNKED_HEAD_END = 'transfer-encoding: chunked\r\n\r\n';

/**
 * The request line and headers as one latin1 string, or the error that makes the request
 * unsendable (a name, value or target that would break the framing).
 */
function requestHead(request: UpstreamRequest, defaultHost: string): string | Error {
  const { method, path, headers, body } = request;
  if (!request.checkedByParser) {
    const refusal = unsendable(request);
    if (refusal) return refusal;
  }
  let head = `${method} ${path} HTTP/1.1\r\n`;
  let hasHost = false;
  let hasLength = false;
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const name = headers[i] ?? '';
    if (name.length === 4 && name.toLowerCase() === 'host') hasHost = true;
    else if (name.length === 14 && name.toLowerCase() === 'content-length') hasLength = true;
    head += `${name}: ${headers[i + 1] ?? ''}\r\n`;
  }
  if (!hasHost) head += `host: ${defaultHost}\r\n`;
  if (body === null) {
    if (!hasLength && EXPECTS_BODY.has(method)) head += 'content-length: 0\r\n';
  } else if (Buffer.isBuffer(body)) {
    if (!hasLength) head += `content-length: ${body.length}\r\n`;
  } else if (!hasLength) {
    return head + CHUNKED_HEAD_END;
  }
  return head + CRLF;
}

/** A method, target, header name or value that hooks (or HTTP/2) left and HTTP/1.1 cannot carry. */
function unsendable({ method, path, headers }: UpstreamRequest): Error | undefined {
  if (!TOKEN.test(method)) return upstreamError('UND_ERR_INVALID_ARG', 'invalid method');
  if (INVALID_PATH.test(path)) return upstreamError('UND_ERR_INVALID_ARG', 'invalid request path');
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const name = headers[i] ?? '';
    if (!TOKEN.test(name)) return upstreamError('UND_ERR_INVALID_ARG', `invalid header name`);
    if (INVALID_FIELD_VALUE.test(headers[i + 1] ?? '')) {
      return upstreamError('UND_ERR_INVALID_ARG', `invalid value for header ${name}`);
    }
  }
  return undefined;
}
