import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Subscription } from 'rxjs';
import { WebSocket, WebSocketServer } from 'ws';
import type { PoolConfig, ServerConfig } from '../config';
import type { ProxyEvent } from '../events';
import {
  BAD_GATEWAY,
  GATEWAY_TIMEOUT,
  NO_HEALTHY_BACKEND,
  isConnectionFailure,
  SERVICE_UNAVAILABLE,
  type ProxyAnswer,
} from '../forwarding/failures';
import { clientResponseHeaders, upstreamRequestHeaders } from '../forwarding/headers';
import { requestedProtocols, upgradeHeaders } from '../forwarding/upgrade';
import { wsSession } from '../streams/wsSession';
import { rejectRaw, writeRawResponse } from './rawResponse';
import { rawHeadersOf } from '../hooks/proxyRequest';
import type { ProxyRequest } from '../hooks/types';
import { cameOverTls } from '../forwarding/stickyCookie';
import type { BalancedPool } from './balancedPool';
import { hookSwitchingProtocols } from './handshakeResponse';
import { HookRun, requestVerdict, type ExchangeHooks } from './hookRunner';
import { SocketEndpoint } from './wsEndpoint';

/** A WebSocket backend as the balancer sees it: its open connections are its load. */
export class WsBackend {
  load = 0;
  /** Settable: a reload's new numbers (weight) for the same name and address. */
  constructor(public server: ServerConfig) {}
  get name(): string {
    return this.server.name;
  }
}

export interface WsProxyContext extends BalancedPool<WsBackend> {
  readonly emit: (event: ProxyEvent) => void;
  /** Request hooks run on handshakes too (`upgrade: true`). */
  readonly hooks: ExchangeHooks | undefined;
  /** A backend by name, for handshakes a hook pinned to it. */
  readonly member: (name: string) => WsBackend | undefined;
  readonly isInRotation: (name: string) => boolean;
}

interface OpenSession {
  /** The backend member, not its name: a name whose address changed has two at once. */
  readonly member: WsBackend;
  readonly client: SocketEndpoint;
  readonly backend: SocketEndpoint;
  readonly subscription: Subscription;
}

const MAX_REJECTION_BODY = 64 * 1024;

/**
 * The subprotocol the backend chose, when the client offered it. It is taken out of the 101 that
 * `ws` is about to check, since `ws` was not told the offer; a choice the client did not offer
 * stays, and `ws` fails the handshake on it.
 */
function takeOfferedProtocol(response: IncomingMessage, offered: readonly string[]): string {
  const chosen = response.headers['sec-websocket-protocol'];
  if (chosen === undefined || !offered.includes(chosen)) return '';
  delete response.headers['sec-websocket-protocol'];
  return chosen;
}

/** Between the backend's acceptance and the session's start, an error ends in the session. */
function ignoreUntilSession(): void {}

/**
 * WebSocket upgrades: the backend is connected first (path, query, subprotocols and end-to-end
 * headers forwarded), and only when it has accepted is the client's upgrade completed with the
 * subprotocol the backend chose. Then the two sockets are relayed by a wsSession.
 */
export class WsProxy {
  private readonly sessions = new Set<OpenSession>();
  private readonly chosenProtocol = new WeakMap<IncomingMessage, string>();
  /** The backend that accepted each handshake, for response hooks on the client's 101. */
  private readonly acceptedBy = new WeakMap<IncomingMessage, string>();
  /** Handshakes as request hooks left them. */
  private readonly hooked = new WeakMap<IncomingMessage, ProxyRequest>();
  /** The sticky cookie a client's 101 sets, when its cookie did not name the accepting server. */
  private readonly stickyCookies = new WeakMap<IncomingMessage, string>();
  private server: WebSocketServer;
  /** The pool settings `server` was made with. */
  private serverPool: PoolConfig;
  private sweeper: NodeJS.Timeout | undefined;
  private lastSweepActivity = new WeakMap<OpenSession, { activity: number; since: number }>();
  private lastPing = 0;

  constructor(private readonly context: WsProxyContext) {
    this.serverPool = context.pool;
    this.server = this.newServer();
    this.startSweeper();
  }

  /**
   * A reload's pool settings: handshakes from now on take its compression and max_message_size
   * (open WebSockets keep theirs); pings and idle checks follow its ping_interval and idle_timeout.
   */
  reconfigure(): void {
    const { pool } = this.context;
    if (
      pool.compression !== this.serverPool.compression ||
      pool.maxMessageSize !== this.serverPool.maxMessageSize
    ) {
      const old = this.server;
      this.serverPool = pool;
      this.server = this.newServer();
      old.close();
    }
    this.startSweeper();
  }

  private newServer(): WebSocketServer {
    const server = new WebSocketServer({
      noServer: true,
      perMessageDeflate: this.serverPool.compression,
      maxPayload: this.serverPool.maxMessageSize,
      clientTracking: false,
      handleProtocols: (_protocols, req) => this.chosenProtocol.get(req) ?? false,
    });
    // The hooks of the moment: a reload may add, change or remove response hooks.
    server.on('headers', (lines: string[], req: IncomingMessage) => {
      const stickyCookie = this.stickyCookies.get(req);
      if (stickyCookie !== undefined) lines.push(`Set-Cookie: ${stickyCookie}`);
      const hooks = this.context.hooks;
      if (!hooks?.response) return;
      const request =
        this.hooked.get(req) ?? hooks.proxyRequest(req, true, this.context.clientAddress(req));
      hookSwitchingProtocols(lines, hooks, request, this.acceptedBy.get(req) ?? '');
    });
    return server;
  }

  private startSweeper(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
    const { pingIntervalMs, idleTimeoutMs } = this.context.pool;
    const periods = [pingIntervalMs, idleTimeoutMs / 4].filter((ms) => ms > 0);
    if (periods.length === 0) return;
    this.sweeper = setInterval(() => this.sweep(), Math.max(50, Math.min(...periods)));
    this.sweeper.unref();
  }

  get open(): number {
    return this.sessions.size;
  }

  /** `socket` already has its 'error' handler: the front end adds it to every upgrade socket. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const hooks = this.context.hooks;
    if (!hooks?.request) {
      this.connect(req, socket, head, undefined, undefined);
      return;
    }
    const request = hooks.proxyRequest(req, true, this.context.clientAddress(req));
    const run = new HookRun(hooks.request, (outcome) => {
      socket.off('close', cancel);
      if (socket.destroyed) return;
      const verdict = requestVerdict(outcome, hooks);
      if (verdict.forward) {
        this.hooked.set(req, request);
        this.connect(req, socket, head, undefined, undefined);
        return;
      }
      const { answer } = verdict;
      writeRawResponse(socket, answer.status, verdict.error ?? '', answer.headers, answer.body);
    });
    const cancel = () => run.cancel();
    socket.once('close', cancel);
    run.start(request);
  }

  /**
   * A handshake's backend: the one a hook pinned it to, the one its sticky cookie names (while in
   * rotation and not failed), or the algorithm's pick.
   */
  private backendFor(
    req: IncomingMessage,
    clientAddress: string | undefined,
    excluded: Set<string> | undefined,
  ) {
    const hooked = this.hooked.get(req);
    const pin = hooked?.backend;
    if (pin === undefined) {
      const sticky = this.context.sticky?.choose(req.headers.cookie, this.context.isInRotation);
      const server = sticky?.server;
      const stuck =
        server === undefined || excluded?.has(server) ? undefined : this.context.member(server);
      if (stuck) return stuck;
      const key = hooked?.hashKey ?? this.context.hashKeyOf(req, clientAddress);
      return this.context.pick(key, excluded);
    }
    return excluded?.has(pin) || !this.context.isInRotation(pin)
      ? undefined
      : this.context.member(pin);
  }

  /** Closes the open WebSockets of one backend (removed by a reload) with 1001 on both sides. */
  closeBackend(member: WsBackend): void {
    for (const session of this.sessions) {
      if (session.member !== member) continue;
      session.client.close(1001, 'going away');
      session.backend.close(1001, 'going away');
    }
  }

  /** Closes every open WebSocket with 1001 "going away"; resolves when they are closed. */
  async closeAll(withinMs: number): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    const open = [...this.sessions];
    for (const session of open) {
      session.client.close(1001, 'going away');
      session.backend.close(1001, 'going away');
    }
    const deadline = Date.now() + withinMs;
    while (this.sessions.size > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    for (const session of this.sessions) {
      session.client.socket.terminate();
      session.backend.socket.terminate();
    }
    this.server.close();
  }

  private connect(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    excluded: Set<string> | undefined,
    failure: NodeJS.ErrnoException | undefined,
  ): void {
    if (socket.destroyed) return;
    const clientAddress = this.context.clientAddress(req);
    const backend = this.backendFor(req, clientAddress, excluded);
    if (!backend) {
      this.reject(socket, this.noBackendAnswer(failure));
      return;
    }
    const { pool } = this.context;
    const hooked = this.hooked.get(req);
    const headers = upgradeHeaders(
      upstreamRequestHeaders(hooked ? rawHeadersOf(hooked.headers) : req.rawHeaders, {
        clientAddress,
        proto: 'http',
      }),
    );
    const host = hooked ? hooked.headers.host : req.headers.host;
    if (typeof host === 'string') headers.host = host;
    const offered = requestedProtocols(req);
    // The offer goes as a plain header, not as the client library's `protocols`: given those, `ws`
    // refuses a 101 that chooses none, which RFC 6455 allows. The choice is checked on 'upgrade'.
    if (offered.length > 0) headers['sec-websocket-protocol'] = offered.join(', ');
    const path = hooked?.url ?? req.url ?? '/';
    const upstream = new WebSocket(`ws://${backend.server.address}${path}`, {
      headers,
      handshakeTimeout: pool.handshakeTimeoutMs,
      perMessageDeflate: pool.compression,
      maxPayload: pool.maxMessageSize,
      followRedirects: false,
    });
    let protocol = '';
    let transport: Duplex | undefined;
    upstream.once('upgrade', (response: IncomingMessage) => {
      protocol = takeOfferedProtocol(response, offered);
      transport = response.socket;
    });
    let opened = false;
    const abandon = () => upstream.terminate();
    socket.once('close', abandon);
    upstream.on('unexpected-response', (_request, response) => {
      opened = true;
      socket.off('close', abandon);
      const status = response.statusCode ?? 502;
      if (status < 500) this.context.reportOutcome(backend, true);
      else this.context.reportOutcome(backend, false, 'response');
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        if (size < MAX_REJECTION_BODY) chunks.push(chunk);
        size += chunk.length;
      });
      response.on('error', () => socket.destroy());
      response.on('end', () => {
        const body = Buffer.concat(chunks).subarray(0, MAX_REJECTION_BODY);
        const rawHeaders = response.rawHeaders.map((value) => Buffer.from(value, 'latin1'));
        writeRawResponse(
          socket,
          response.statusCode ?? 502,
          response.statusMessage ?? '',
          clientResponseHeaders(rawHeaders),
          body,
        );
        upstream.terminate();
      });
    });
    upstream.on('error', (error: NodeJS.ErrnoException) => {
      if (opened) return;
      socket.off('close', abandon);
      const code = error.message.includes('timed out') ? 'ETIMEDOUT' : error.code;
      const failure = isConnectionFailure(code) ? 'connection' : 'response';
      this.context.reportOutcome(backend, false, failure);
      const tried = new Set(excluded);
      tried.add(backend.name);
      this.connect(req, socket, head, tried, Object.assign(error, { code }));
    });
    upstream.once('open', () => {
      opened = true;
      // The handshake listeners hold the client's request and socket; a long-lived connection
      // must not keep them. The session adds its own listeners.
      upstream.removeAllListeners('unexpected-response');
      upstream.removeAllListeners('error');
      upstream.on('error', ignoreUntilSession);
      upstream.pause();
      this.context.reportOutcome(backend, true);
      if (socket.destroyed || !transport) {
        socket.off('close', abandon);
        upstream.close(1001, 'client went away');
        return;
      }
      const backendEnd = new SocketEndpoint(upstream, transport);
      this.chosenProtocol.set(req, protocol);
      this.acceptedBy.set(req, backend.name);
      const stickyCookie = this.context.sticky?.setCookie(
        backend.server.address,
        this.context.sticky.choose(req.headers.cookie, () => true).value,
        cameOverTls(req),
      );
      if (stickyCookie !== undefined) this.stickyCookies.set(req, stickyCookie);
      // Until the session owns both sockets, a client whose handshake `ws` refuses (a bad key or
      // version) takes its backend connection with it.
      this.server.handleUpgrade(req, socket, head, (client) => {
        socket.off('close', abandon);
        this.relay(req, new SocketEndpoint(client, socket), backendEnd, backend, protocol);
      });
    });
  }

  private noBackendAnswer(failure: NodeJS.ErrnoException | undefined): ProxyAnswer {
    if (this.context.healthyCount() === 0) return NO_HEALTHY_BACKEND;
    if (failure) return failure.code === 'ETIMEDOUT' ? GATEWAY_TIMEOUT : BAD_GATEWAY;
    return SERVICE_UNAVAILABLE;
  }

  private reject(socket: Duplex, answer: ProxyAnswer): void {
    if (answer.reason !== undefined) {
      this.context.emit({
        type: 'websocket-rejected',
        pool: this.context.pool.kind,
        status: answer.status,
        rejected: answer.reason,
      });
    }
    rejectRaw(socket, answer);
  }

  private relay(
    req: IncomingMessage,
    client: SocketEndpoint,
    upstreamEnd: SocketEndpoint,
    backend: WsBackend,
    subprotocol: string,
  ): void {
    const upstream = upstreamEnd.socket;
    const openedAt = Date.now();
    backend.load++;
    upstream.off('error', ignoreUntilSession);
    this.context.emit({
      type: 'websocket-open',
      pool: this.context.pool.kind,
      backend: backend.name,
      url: req.url ?? '/',
      subprotocol,
    });
    let session: OpenSession | undefined;
    const subscription = wsSession(client, upstreamEnd).subscribe((end) => {
      backend.load--;
      if (session) this.sessions.delete(session);
      this.context.emit({
        type: 'websocket-close',
        pool: this.context.pool.kind,
        backend: backend.name,
        closedBy: end.closedBy,
        code: end.code,
        reason: end.reason,
        durationMs: Date.now() - openedAt,
        clientToBackend: end.clientToBackend,
        backendToClient: end.backendToClient,
        ...(end.error === undefined ? {} : { error: end.error }),
      });
    });
    if (!subscription.closed) {
      session = { member: backend, client, backend: upstreamEnd, subscription };
      this.sessions.add(session);
    }
    upstream.resume();
  }

  private sweep(): void {
    const now = Date.now();
    const { pingIntervalMs, idleTimeoutMs } = this.context.pool;
    const ping = pingIntervalMs > 0 && now - this.lastPing >= pingIntervalMs;
    if (ping) this.lastPing = now;
    for (const session of this.sessions) {
      if (ping) {
        session.client.heartbeat();
        session.backend.heartbeat();
      }
      if (idleTimeoutMs > 0) {
        const activity = session.client.activity + session.backend.activity;
        const seen = this.lastSweepActivity.get(session);
        if (!seen || seen.activity !== activity) {
          this.lastSweepActivity.set(session, { activity, since: now });
        } else if (now - seen.since >= idleTimeoutMs) {
          session.client.close(1000, 'idle timeout');
          session.backend.close(1000, 'idle timeout');
        }
      }
    }
  }
}
