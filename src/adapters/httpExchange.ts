import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { keyOwner } from '../balancing/keyOwner';
import { afterFailure } from '../forwarding/afterFailure';
import {
  NO_HEALTHY_BACKEND,
  PENDING_FULL,
  SERVICE_UNAVAILABLE,
  isProxyRefusal,
  answerForUpstreamError,
  isConnectionFailure,
  type ProxyAnswer,
} from '../forwarding/failures';
import { clientResponseHead, protoOf, upstreamRequestHeaders } from '../forwarding/headers';
import { trailerPairs } from '../forwarding/responseHeaders';
import { hasBody, lenientHttpParser, originFormPath } from '../forwarding/requestTarget';
import { cameOverTls } from '../forwarding/stickyCookie';
import { headerMapOf, rawHeadersOf } from '../hooks/proxyRequest';
import { HOOK_FAILED, HOOK_TIMEOUT } from '../hooks/replies';
import type { ProxyRequest, ProxyResponse } from '../hooks/types';
import type { BalancedPool } from './balancedPool';
import type { UpstreamHandler } from './http1Connection';
import {
  HookRun,
  poolChoice,
  requestVerdict,
  type ExchangeHooks,
  type HookChain,
  type HookOutcome,
  type RequestPlace,
  type RequestVerdict,
} from './hookRunner';
import type { PendingLine } from './pendingLine';
import { answer } from './proxyAnswer';
import { RequestBody, type BodyLimits, type BodyOwner } from './requestBody';
import type { UpstreamWorker } from './upstreamWorker';
import type { WorkerPool, WorkerRequest } from './workerPool';

/** nginx's status for a request the client gave up on before the response was complete. */
export const CLIENT_CLOSED_REQUEST = 499;

/** A request pinned (by a hook) to a backend that is out of rotation. */
const PINNED_OUT_OF_ROTATION: ProxyAnswer = {
  ...SERVICE_UNAVAILABLE,
  reason: 'no_healthy_backend',
};

export interface ExchangeOutcome {
  readonly req: IncomingMessage;
  readonly backend: string | undefined;
  readonly status: number;
  readonly durationMs: number;
  readonly error: string | undefined;
  /** Why the proxy answered the request itself, when it did. */
  readonly rejected: string | undefined;
  /** Attempts made on backends (1 when the first one answered). */
  readonly attempts: number;
  /** What request hooks attached to the request. */
  readonly meta: Record<string, unknown> | undefined;
  /** The `[route:NAME]` the request matched; undefined for the default pool. */
  readonly route: string | undefined;
}

export interface ExchangeContext extends BalancedPool<WorkerPool> {
  /**
   * The context of another pool, for a request whose hooks set `req.pool` to it; undefined when
   * no pool has that name. Absent: no other pool is known.
   */
  readonly routeTo?: (pool: string) => ExchangeContext | undefined;
  /** A backend by name, for requests a hook pinned to it. */
  readonly member: (name: string) => WorkerPool | undefined;
  readonly hooks: ExchangeHooks | undefined;
  /** Whether a backend is in rotation now. */
  readonly isInRotation: (backend: string) => boolean;
  /** Where requests wait when every backend they may use is full (none when max_pending=0). */
  readonly line: PendingLine | undefined;
  /** While the proxy drains, responses close their connection. */
  readonly draining: () => boolean;
  readonly onFinished: (outcome: ExchangeOutcome) => void;
  /** An attempt on `backend` failed with `code` and the request goes on elsewhere. */
  readonly onRetry: (backend: string, code: string) => void;
  /** How request bodies are buffered, limited and timed. */
  readonly body: BodyLimits;
}

class ClientClosedError extends Error {
  readonly code = 'CLIENT_CLOSED';
  constructor() {
    super('client closed the connection');
  }
}

/** Requests from Node's HTTP/1.1 parser need no second check of their head (see runOn). */
const STRICT_HTTP1_PARSER = !lenientHttpParser(process.execArgv, process.env.NODE_OPTIONS);

/** A write after the client vanished fails again on 'close', where it is accounted for. */
function ignoreLateWriteError(): void {}

/**
 * One client request: placed on a backend's worker (or its queue), relayed with backpressure
 * both ways as the handler of the worker's connection, and retried on another backend when the
 * connection fails before any response byte and retrying is safe.
 */
export class HttpExchange implements UpstreamHandler, WorkerRequest, BodyOwner {
  private readonly startedAt = performance.now();
  private readonly method: string;
  private readonly withBody: boolean;
  private body: RequestBody | undefined;
  private sharedHeaders: string[] | undefined;
  private pool: WorkerPool | undefined;
  private worker: UpstreamWorker | undefined;
  private hashKey: string | undefined;
  /** Who the request is from: the peer, or the client a trusted proxy forwarded for. */
  private readonly clientAddress: string | undefined;
  /** The request as hooks left it; undefined without request hooks. */
  private hooked: ProxyRequest | undefined;
  /** A hook chain still running for this request, asynchronously. */
  private hookRun: { cancel(): void } | undefined;
  /** A hook pinned the request to this backend. */
  private pin: string | undefined;
  /** The server the sticky cookie pins the request to (a soft pin: it fails over). */
  private stickyServer: string | undefined;
  /** The request's sticky cookie value that named a server of the pool. */
  private stickyValue: string | undefined;
  /** The response head waits for asynchronous response hooks; body chunks wait with it. */
  private heldChunks: Buffer[] | undefined;
  private heldEnd: (() => void) | undefined;
  /** Backends this request failed on: it does not go back to them. */
  private tried: Set<string> | undefined;
  /** When waiting for a worker ends, in the pool's line and a backend's queue together. */
  deadline = 0;
  private inLine = false;
  private retriesLeft: number;
  private staleRetryUsed = false;
  private attempts = 0;
  private dispatched = false;
  /** Whether the current attempt went out on a connection that had served requests before. */
  private reusedConnection = false;
  private upstreamDone = false;
  private reusable = true;
  private abortUpstream: ((error: Error) => void) | undefined;
  private resumeUpstream: (() => void) | undefined;
  private status = 0;
  private error: string | undefined;
  private rejected: string | undefined;
  /** The response had begun when the backend failed, so the proxy cut the client's connection. */
  private cutByUpstream = false;

  constructor(
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    /** The pool's context; a hook that sets `req.pool` moves the request to another's. */
    private context: ExchangeContext,
    /** The `[route:NAME]` the request matched; undefined for the default pool. */
    private readonly routeName?: string,
  ) {
    this.method = req.method ?? 'GET';
    this.withBody = hasBody(req);
    this.retriesLeft = context.pool.retries;
    this.clientAddress = context.clientAddress(req);
    this.hashKey = context.hashKeyOf(req, this.clientAddress);
    // With request hooks the headers are built once the hooks are done with them.
    this.sharedHeaders =
      context.pool.preserveHost && !context.hooks?.request
        ? this.upstreamHeaders(undefined)
        : undefined;
    res.on('close', this.onClientClose);
    res.on('error', ignoreLateWriteError);
  }

  /** Request hooks first (a refusal need not wait for a body), then the body, then a backend. */
  start(): void {
    const hooks = this.context.hooks;
    if (!hooks?.request) {
      this.readBodyThenRoute();
      return;
    }
    const request = hooks.proxyRequest(this.req, false, this.clientAddress, this.place());
    this.hooked = request;
    const run = new HookRun(hooks.request, (outcome) => {
      const choice = poolChoice(outcome, this.context.pool.name, this.context.routeTo);
      if (choice.target) this.moveTo(choice.target);
      this.afterRequestHooks(request, requestVerdict(choice.outcome, hooks));
    });
    this.hookRun = run;
    run.start(request);
  }

  /** Where the request is before its hooks: `req.pool` and `req.route`. */
  private place(): RequestPlace {
    return { pool: this.context.pool.name, route: this.routeName };
  }

  /**
   * The request's hooks sent it to another pool: from here on it is that pool's request (its
   * balancing, retries, hash key, line and events). Nothing was placed yet.
   */
  private moveTo(context: ExchangeContext): void {
    this.context = context;
    this.retriesLeft = context.pool.retries;
    this.hashKey = context.hashKeyOf(this.req, this.clientAddress);
  }

  private afterRequestHooks(request: ProxyRequest, verdict: RequestVerdict): void {
    this.hookRun = undefined;
    if (this.clientGone()) return;
    if (verdict.forward) {
      this.applyHooked(request);
      this.readBodyThenRoute();
      return;
    }
    const { answer: rendered } = verdict;
    this.status = rendered.status;
    if (verdict.error !== undefined) this.error ??= verdict.error;
    this.rejected = verdict.rejected;
    if (this.context.draining()) rendered.headers.push('connection', 'close');
    this.res.writeHead(rendered.status, rendered.headers);
    this.res.end(rendered.body);
  }

  private applyHooked(request: ProxyRequest): void {
    this.pin = request.backend;
    if (request.hashKey !== undefined) this.hashKey = request.hashKey;
    this.sharedHeaders = this.context.pool.preserveHost
      ? this.upstreamHeaders(undefined)
      : undefined;
  }

  private readBodyThenRoute(): void {
    if (!this.withBody) {
      this.route(undefined);
      return;
    }
    this.body = new RequestBody(this.req, this.context.body, this);
    this.body.start();
  }

  bodyReady(): void {
    this.route(undefined);
  }

  /** Answers (or cuts a begun response), closes the connection, stops any upstream request. */
  bodyFailed(reply: ProxyAnswer): void {
    this.error = reply.error;
    if (!this.res.headersSent) {
      this.status = reply.status;
      this.rejected = reply.reason;
    }
    this.stopWaiting();
    answer(this.res, reply, true);
    if (this.dispatched && !this.upstreamDone) this.abortUpstream?.(new ClientClosedError());
  }

  runOn(worker: UpstreamWorker): void {
    this.worker = worker;
    this.dispatched = true;
    this.reusedConnection = worker.served > 0;
    this.upstreamDone = false;
    this.reusable = true;
    this.abortUpstream = undefined;
    this.attempts++;
    const headers = this.sharedHeaders ?? this.upstreamHeaders(this.pool?.server.address);
    // The pool's response_timeout of the moment: a reload's new value applies to the next request
    // on a connection opened before it.
    const responseTimeoutMs = this.context.pool.responseTimeoutMs;
    worker.dispatch(
      {
        path: originFormPath(this.hooked?.url ?? this.req.url ?? '/'),
        method: this.method,
        headers: this.body ? this.body.upstreamHeaders(headers) : headers,
        body: this.body ? this.body.upstreamBody() : null,
        timeoutMs: responseTimeoutMs,
        // Request hooks may leave anything; HTTP/2's header rules are not HTTP/1.1's.
        checkedByParser:
          STRICT_HTTP1_PARSER && this.hooked === undefined && this.req.httpVersionMajor === 1,
      },
      this,
    );
  }

  failBeforeDispatch(error: NodeJS.ErrnoException): void {
    this.dispatched = false;
    this.reusedConnection = false;
    this.fail(error);
  }

  onConnect(abort: (error: Error) => void): void {
    this.abortUpstream = abort;
    if (this.clientGone()) abort(new ClientClosedError());
  }

  onHeaders(
    statusCode: number,
    rawHeaders: string[],
    resume: () => void,
    statusText: string,
  ): boolean {
    if (statusCode < 200) return true;
    const { headers, closes } = clientResponseHead(rawHeaders);
    if (closes) this.reusable = false;
    // A good answer counts once its body is complete too (onComplete): a backend that dies
    // mid-response has failed.
    if (this.pool && statusCode >= 500) this.context.reportOutcome(this.pool, false, 'response');
    const stickyCookie = this.pool
      ? this.context.sticky?.setCookie(
          this.pool.server.address,
          this.stickyValue,
          cameOverTls(this.req),
        )
      : undefined;
    if (stickyCookie !== undefined) headers.push('set-cookie', stickyCookie);
    this.status = statusCode;
    this.resumeUpstream = resume;
    const hooks = this.context.hooks;
    if (hooks?.response && this.pool) {
      return this.runResponseHooks(hooks, hooks.response, statusText, headers);
    }
    return this.writeHead(statusCode, statusText, headers);
  }

  private writeHead(status: number, statusText: string | undefined, headers: string[]): boolean {
    if (this.context.draining()) headers.push('connection', 'close');
    try {
      if (statusText === undefined) this.res.writeHead(status, headers);
      else this.res.writeHead(status, statusText, headers);
    } catch (error) {
      this.error = `invalid response head: ${(error as Error).message}`;
      this.abortUpstream?.(error as Error);
      return false;
    }
    return true;
  }

  /**
   * Response hooks see the head before the client does. When they answer asynchronously the
   * body is paused (and chunks already parsed are held) until the head is written.
   */
  private runResponseHooks(
    hooks: ExchangeHooks,
    chain: HookChain<ProxyResponse, never>,
    statusText: string,
    headers: string[],
  ): boolean {
    const status = this.status;
    const response: ProxyResponse = {
      status,
      headers: headerMapOf(headers),
      backend: this.pool?.name ?? '',
      request: this.hooked ?? hooks.proxyRequest(this.req, false, this.clientAddress, this.place()),
    };
    let synchronous = true;
    let written: boolean | undefined;
    const run = new HookRun(chain, (outcome: HookOutcome<ProxyResponse>) => {
      const ok = this.afterResponseHooks(outcome, status, statusText);
      if (synchronous) {
        written = ok;
        return;
      }
      this.hookRun = undefined;
      this.releaseHeld(ok);
    });
    run.start(response);
    synchronous = false;
    if (written !== undefined) return written;
    this.hookRun = run;
    this.heldChunks = [];
    return false;
  }

  private afterResponseHooks(
    outcome: HookOutcome<ProxyResponse>,
    status: number,
    statusText: string,
  ): boolean {
    if (outcome.kind === 'value') {
      const { value } = outcome;
      this.status = value.status;
      const text = value.status === status ? statusText : undefined;
      return this.writeHead(value.status, text, rawHeadersOf(value.headers));
    }
    if (outcome.kind === 'failed') this.context.hooks?.failed('response hook', outcome.message);
    this.reply(outcome.kind === 'failed' ? HOOK_FAILED : HOOK_TIMEOUT);
    if (this.heldEnd) {
      this.heldEnd = undefined;
      this.upstreamDone = true;
      this.releaseWorker(false);
    } else {
      this.abortUpstream?.(new ClientClosedError());
    }
    return false;
  }

  /** Sends what arrived while response hooks ran, then lets the body flow again. */
  private releaseHeld(written: boolean): void {
    const chunks = this.heldChunks ?? [];
    const end = this.heldEnd;
    this.heldChunks = undefined;
    this.heldEnd = undefined;
    if (!written) return;
    for (const chunk of chunks) this.res.write(chunk);
    if (end) end();
    else this.resumeUpstream?.();
  }

  onData(chunk: Buffer): boolean {
    if (this.heldChunks) {
      this.heldChunks.push(chunk);
      return false;
    }
    if (this.res.write(chunk)) return true;
    if (this.resumeUpstream) this.res.once('drain', this.resumeUpstream);
    return false;
  }

  onComplete(trailers: string[], reusable: boolean): void {
    if (this.heldChunks) {
      this.heldEnd = () => this.onComplete(trailers, reusable);
      return;
    }
    if (!reusable) this.reusable = false;
    this.upstreamDone = true;
    if (this.pool && this.status < 500) this.context.reportOutcome(this.pool, true);
    if (trailers.length > 0 && !this.res.destroyed) {
      this.res.addTrailers(trailerPairs(trailers));
    }
    this.res.end();
    this.releaseWorker(this.reusable);
  }

  onError(error: Error): void {
    this.upstreamDone = true;
    this.releaseWorker(false);
    if (error instanceof ClientClosedError) return;
    this.fail(error);
  }

  private upstreamHeaders(hostOverride: string | undefined): string[] {
    const raw = this.hooked ? rawHeadersOf(this.hooked.headers) : this.req.rawHeaders;
    return upstreamRequestHeaders(raw, {
      clientAddress: this.clientAddress,
      proto: protoOf(this.req.socket),
      ...(hostOverride === undefined ? {} : { hostOverride }),
    });
  }

  /**
   * Places the request on the next backend with room. When every backend it may use is full it
   * waits in the pool's line; when none is left, `failure` (or a 502) is answered.
   */
  private route(failure: NodeJS.ErrnoException | undefined): void {
    if (this.deadline === 0) {
      this.deadline = performance.now() + this.context.pool.queueTimeoutMs;
      this.readStickyCookie();
    }
    if (this.pin !== undefined && !this.context.isInRotation(this.pin)) {
      this.reply(PINNED_OUT_OF_ROTATION);
      return;
    }
    let skip = this.tried;
    let sawFull = false;
    let lastFailure = failure;
    for (;;) {
      const pool = this.candidate(skip);
      if (!pool) break;
      this.pool = pool;
      this.worker = undefined;
      const placed = pool.acquire(this);
      if (placed === 'running' || placed === 'queued') return;
      if (placed === 'full') {
        sawFull = true;
        // A key's (or a sticky client's) requests wait for their backend rather than spill.
        if (this.followsKey() || this.pin !== undefined || pool === this.stickyMember(skip)) break;
      } else {
        lastFailure = pool.lastConnectError ?? lastFailure;
      }
      skip = new Set(skip);
      skip.add(pool.name);
    }
    if (this.context.healthyCount() === 0) {
      this.reply(NO_HEALTHY_BACKEND);
    } else if (sawFull) {
      const line = this.context.line;
      this.inLine = line?.enter(this) ?? false;
      if (this.inLine) this.pool = undefined;
      else this.reply(line ? PENDING_FULL : SERVICE_UNAVAILABLE);
    } else {
      // The log names why the last backend could not be reached (a refused connect, a failed
      // TLS certificate check), not only the answer.
      if (lastFailure) this.error ??= failureText(lastFailure);
      this.reply(answerForUpstreamError(lastFailure?.code ?? 'ECONNREFUSED'));
    }
  }

  /** The next backend for this request: its pinned one, its sticky one, or the algorithm's pick. */
  private candidate(skip: ReadonlySet<string> | undefined): WorkerPool | undefined {
    if (this.pin !== undefined)
      return skip?.has(this.pin) ? undefined : this.context.member(this.pin);
    return this.stickyMember(skip) ?? this.context.pick(this.hashKey, skip);
  }

  private readStickyCookie(): void {
    const sticky = this.context.sticky;
    if (!sticky) return;
    const choice = sticky.choose(this.req.headers.cookie, this.context.isInRotation);
    this.stickyServer = choice.server;
    this.stickyValue = choice.value;
  }

  /**
   * The backend the sticky cookie names, while it is in rotation and the request has not failed
   * on it; a request that could not connect there is balanced and gets a new cookie.
   */
  private stickyMember(skip: ReadonlySet<string> | undefined): WorkerPool | undefined {
    const server = this.stickyServer;
    if (server === undefined || skip?.has(server) || !this.context.isInRotation(server)) {
      return undefined;
    }
    return this.context.member(server);
  }

  /** consistent-hash with a key: the request belongs to the key's owner. */
  private followsKey(): boolean {
    return this.hashKey !== undefined && this.context.pool.algorithm === 'consistent-hash';
  }

  allows(backend: WorkerPool): boolean {
    if (this.tried?.has(backend.name)) return false;
    // A backend draining after a reload (removed, or the old address of its name) takes no more.
    if (this.context.member(backend.name) !== backend) return false;
    if (this.pin !== undefined) return backend.name === this.pin;
    const sticky = this.stickyMember(this.tried);
    if (sticky) return backend === sticky;
    if (!this.followsKey()) return this.context.isInRotation(backend.name);
    return keyOwner((skip) => this.context.pick(this.hashKey, skip), this.tried) === backend;
  }

  placedOn(backend: WorkerPool): void {
    this.inLine = false;
    this.pool = backend;
    this.worker = undefined;
  }

  private fail(error: NodeJS.ErrnoException): void {
    if (this.clientGone()) return;
    const code = error.code;
    this.error = failureText(error);
    const step = afterFailure({
      code,
      method: this.method,
      responseStarted: this.res.headersSent,
      dispatched: this.dispatched,
      withBody: this.withBody,
      reusedConnection: this.reusedConnection,
      staleRetryUsed: this.staleRetryUsed,
      retriesLeft: this.retriesLeft,
    });
    // A request that never left its queue was reported by the pool, with its failed connect.
    if (this.pool && step !== 'move' && !isProxyRefusal(code)) {
      const kind = isConnectionFailure(code) ? 'connection' : 'response';
      this.context.reportOutcome(this.pool, false, kind);
    }
    if (this.pool && (step === 'stale' || step === 'next' || step === 'move')) {
      this.context.onRetry(this.pool.name, code ?? 'UNKNOWN');
    }
    switch (step) {
      case 'cut':
        // Logged as the backend's failure, not as a client that went away (499).
        this.status = answerForUpstreamError(code).status;
        this.cutByUpstream = true;
        this.res.destroy();
        return;
      case 'stale':
        this.staleRetryUsed = true;
        this.route(error);
        return;
      case 'next':
        this.retriesLeft--;
        if (this.pool) this.exclude(this.pool.name);
        this.route(error);
        return;
      case 'move':
        if (this.pool) this.exclude(this.pool.name);
        this.route(error);
        return;
      case 'answer':
        this.reply(answerForUpstreamError(code));
    }
  }

  private exclude(backend: string): void {
    this.tried ??= new Set();
    this.tried.add(backend);
  }

  private reply(reply: ProxyAnswer): void {
    this.status = reply.status;
    this.error ??= reply.error;
    if (!this.res.headersSent) this.rejected = reply.reason;
    answer(this.res, reply, this.context.draining());
  }

  private releaseWorker(reusable: boolean): void {
    const worker = this.worker;
    if (!worker) return;
    this.worker = undefined;
    this.pool?.release(worker, reusable);
  }

  /** Leaves the pool's line or the backend's queue, wherever the request waits. */
  private stopWaiting(): void {
    if (this.inLine) this.context.line?.cancel(this);
    else if (!this.dispatched) this.pool?.cancel(this);
    this.inLine = false;
  }

  private clientGone(): boolean {
    return this.res.destroyed && !this.res.writableFinished;
  }

  private readonly onClientClose = (): void => {
    this.body?.dispose();
    this.hookRun?.cancel();
    const completed = this.res.writableFinished;
    if (!completed) {
      if (!this.dispatched) this.stopWaiting();
      else if (!this.upstreamDone) this.abortUpstream?.(new ClientClosedError());
    }
    const clientLeft = !completed && !this.cutByUpstream;
    this.context.onFinished({
      req: this.req,
      backend: this.pool?.server.name,
      status: clientLeft ? CLIENT_CLOSED_REQUEST : this.status,
      durationMs: Math.round((performance.now() - this.startedAt) * 1000) / 1000,
      error: clientLeft ? (this.error ?? 'client closed the connection') : this.error,
      rejected: clientLeft ? undefined : this.rejected,
      attempts: this.attempts,
      meta: this.hooked?.meta,
      route: this.routeName,
    });
  };
}

/** `CODE: message`, as a request's log line gives an upstream failure. */
function failureText(error: NodeJS.ErrnoException): string {
  return error.code === undefined ? error.message : `${error.code}: ${error.message}`;
}
