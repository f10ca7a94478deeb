import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Dispatcher } from 'undici';
import { clientResponseHeaders, upstreamRequestHeaders } from '../forwarding/headers';
import {
  BAD_REQUEST,
  answerBody,
  answerForUpstreamError,
  type ProxyAnswer,
} from '../forwarding/failures';
import type { HttpUpstream } from './httpUpstream';

/** nginx's status for a request the client gave up on before the response was complete. */
export const CLIENT_CLOSED_REQUEST = 499;

export interface ExchangeOutcome {
  readonly req: IncomingMessage;
  readonly backend: string | undefined;
  readonly status: number;
  readonly durationMs: number;
  readonly error: string | undefined;
}

export interface ExchangeContext {
  /** While the proxy drains, responses close their connection. */
  readonly draining: () => boolean;
  readonly onFinished: (outcome: ExchangeOutcome) => void;
}

class ClientClosedError extends Error {
  readonly code = 'CLIENT_CLOSED';
  constructor() {
    super('client closed the connection');
  }
}

function hasBody(req: IncomingMessage): boolean {
  return (
    req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined
  );
}

function originFormPath(url: string): string {
  if (url.startsWith('/')) return url;
  try {
    const parsed = new URL(url);
    return `${parsed.pathname}${parsed.search}`;
  } catch {
    return url;
  }
}

/** A write after the client vanished fails again on 'close', where it is accounted for. */
function ignoreLateWriteError(): void {}

/** Writes the proxy's own JSON answer, or cuts the response if the backend's has begun. */
export function answer(res: ServerResponse, reply: ProxyAnswer, extraHeaders: string[] = []): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = answerBody(reply);
  res.writeHead(reply.status, [
    'content-type',
    'application/json',
    'content-length',
    String(Buffer.byteLength(body)),
    ...extraHeaders,
  ]);
  res.end(body);
}

/**
 * One client request relayed to one backend: an undici dispatch handler that streams the
 * response into the client's, with backpressure both ways.
 */
export class HttpExchange implements Dispatcher.DispatchHandler {
  private readonly startedAt = performance.now();
  private abortUpstream: ((error?: Error) => void) | undefined;
  private upstreamDone = false;
  private status = 0;
  private error: string | undefined;

  constructor(
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly upstream: HttpUpstream,
    private readonly context: ExchangeContext,
  ) {
    res.on('close', this.onClientClose);
    res.on('error', ignoreLateWriteError);
  }

  start(): void {
    const { req } = this;
    this.upstream.dispatch(
      {
        path: originFormPath(req.url ?? '/'),
        method: req.method ?? 'GET',
        headers: upstreamRequestHeaders(req.rawHeaders, {
          clientAddress: req.socket.remoteAddress,
          proto: 'http',
        }),
        body: hasBody(req) ? req : null,
      },
      this,
    );
  }

  onConnect(abort: (error?: Error) => void): void {
    this.abortUpstream = abort;
    if (this.res.destroyed && !this.res.writableFinished) abort(new ClientClosedError());
  }

  onHeaders(
    statusCode: number,
    rawHeaders: Buffer[],
    resume: () => void,
    statusText: string,
  ): boolean {
    if (statusCode < 200) return true;
    const headers = clientResponseHeaders(rawHeaders);
    if (this.context.draining()) headers.push('connection', 'close');
    this.status = statusCode;
    try {
      this.res.writeHead(statusCode, statusText, headers);
    } catch (error) {
      this.error = `invalid response head from backend: ${(error as Error).message}`;
      this.abortUpstream?.(error as Error);
      return false;
    }
    this.res.on('drain', resume);
    return true;
  }

  onData(chunk: Buffer): boolean {
    return this.res.write(chunk);
  }

  onComplete(): void {
    this.upstreamDone = true;
    this.res.end();
  }

  onError(error: Error): void {
    this.upstreamDone = true;
    if (error instanceof ClientClosedError) return;
    const code = (error as NodeJS.ErrnoException).code;
    this.error ??= code === undefined ? error.message : `${code}: ${error.message}`;
    if (this.res.headersSent) {
      this.res.destroy();
      return;
    }
    const reply = code === 'UND_ERR_INVALID_ARG' ? BAD_REQUEST : answerForUpstreamError(code);
    this.status = reply.status;
    answer(this.res, reply, this.context.draining() ? ['connection', 'close'] : []);
  }

  private readonly onClientClose = (): void => {
    const completed = this.res.writableFinished;
    if (!completed && !this.upstreamDone) {
      this.abortUpstream?.(new ClientClosedError());
    }
    this.context.onFinished({
      req: this.req,
      backend: this.upstream.server.name,
      status: completed ? this.status : CLIENT_CLOSED_REQUEST,
      durationMs: Math.round((performance.now() - this.startedAt) * 1000) / 1000,
      error: completed ? this.error : (this.error ?? 'client closed the connection'),
    });
  };
}
