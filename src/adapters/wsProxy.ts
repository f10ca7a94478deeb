import type { IncomingMessage } from 'node:http';
import type { Observer } from '../rx';
import type { Duplex } from 'node:stream';
import type { ServerConfig } from '../config';
import type { ProxyEvent } from '../events';
import {
  BAD_GATEWAY,
  GATEWAY_TIMEOUT,
  NO_HEALTHY_BACKEND,
  isConnectionFailure,
  SERVICE_UNAVAILABLE,
  type ProxyAnswer,
} from '../forwarding/failures';
import { protoOf, upstreamRequestHeaders } from '../forwarding/headers';
import { cameOverTls } from '../forwarding/stickyCookie';
import { requestedProtocols, upgradeHeaders } from '../forwarding/upgrade';
import { deflateOffer } from '../forwarding/wsHandshake';
import { rawHeadersOf } from '../hooks/proxyRequest';
import type { ProxyRequest } from '../hooks/types';
import { tunnelSession, type WsSessionEnd } from '../streams/tunnelSession';
import { openBackendHandshake, type BackendHandshakeOutcome } from './backendHandshake';
import type { BalancedPool } from './balancedPool';
import { completeClientHandshake } from './clientHandshake';
import { HookRun, poolChoice, requestVerdict, type ExchangeHooks } from './hookRunner';
import { rejectRaw, relayAnswer, writeRawResponse } from './rawResponse';
import { TunnelEndpoint } from './tunnelEndpoint';
import { WsSweeper } from './wsSweeper';

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
  /**
   * The proxy of another pool, for a handshake whose hooks set `req.pool` to it; undefined when
   * no pool has that name. Absent: no other pool is known.
   */
  readonly routeTo?: (pool: string) => WsProxy | undefined;
}

/**
 * An open WebSocket, and the observer of its end: one object per session, where a closure over
 * the relay's variables took a function and a context more.
 */
class OpenSession implements Pick<Observer<WsSessionEnd>, 'next'> {
  readonly openedAt = Date.now();

  constructor(
    private readonly proxy: WsProxy,
    /** The backend member, not its name: a name whose address changed has two at once. */
    readonly member: WsBackend,
    readonly client: TunnelEndpoint,
    readonly backend: TunnelEndpoint,
  ) {}

  next(end: WsSessionEnd): void {
    this.proxy.sessionEnded(this, end);
  }
}

/** One client's handshake while its backend is being found. */
export interface Upgrade {
  readonly req: IncomingMessage;
  readonly socket: Duplex;
  readonly head: Buffer;
  /** The handshake as request hooks left it, when they ran. */
  readonly hooked: ProxyRequest | undefined;
  /** The `[route:NAME]` the handshake matched; undefined for the default pool. */
  readonly route: string | undefined;
}

/**
 * WebSocket upgrades: the backend is connected first (path, query, subprotocols and end-to-end
 * headers forwarded), and only when it has accepted is the client's upgrade completed with the
 * subprotocol the backend chose. Then the two connections are one tunnel: bytes pass unchanged,
 * with their frame headers read on the way (tunnelEndpoint, tunnelSession).
 */
export class WsProxy {
  private readonly sessions = new Set<OpenSession>();
  private readonly sweeper: WsSweeper;

  constructor(private readonly context: WsProxyContext) {
    this.sweeper = new WsSweeper(this.sessions, () => this.context.pool);
    this.sweeper.start();
  }

  /**
   * A reload's pool settings: handshakes from now on take its compression and max_message_size
   * (open WebSockets keep theirs); pings and idle checks follow its ping_interval and idle_timeout.
   */
  reconfigure(): void {
    this.sweeper.start();
  }

  get open(): number {
    return this.sessions.size;
  }

  /** The pool's name in events and in `req.pool`. */
  get poolName(): string {
    return this.context.pool.name;
  }

  /**
   * `socket` already has its 'error' handler: the front end adds it to every upgrade socket.
   * `route` is the `[route:NAME]` the handshake matched (undefined for the default pool).
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, route?: string): void {
    const hooks = this.context.hooks;
    if (!hooks?.request) {
      this.connect({ req, socket, head, hooked: undefined, route }, undefined, undefined);
      return;
    }
    const place = { pool: this.poolName, route };
    const request = hooks.proxyRequest(req, true, this.context.clientAddress(req), place);
    const run = new HookRun(hooks.request, (outcome) => {
      socket.off('close', cancel);
      if (socket.destroyed) return;
      const choice = poolChoice(outcome, place.pool, this.context.routeTo);
      const verdict = requestVerdict(choice.outcome, hooks);
      if (verdict.forward) {
        (choice.target ?? this).continueUpgrade({ req, socket, head, hooked: request, route });
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
   * Finds a backend for a handshake whose request hooks already ran (here or in the pool that
   * routed it here); they do not run again.
   */
  continueUpgrade(upgrade: Upgrade): void {
    this.connect(upgrade, undefined, undefined);
  }

  /**
   * A handshake's backend: the one a hook pinned it to, the one its sticky cookie names (while in
   * rotation and not failed), or the algorithm's pick.
   */
  private backendFor(
    upgrade: Upgrade,
    clientAddress: string | undefined,
    excluded: Set<string> | undefined,
  ) {
    const { req, hooked } = upgrade;
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
    this.sweeper.stop();
    for (const session of this.sessions) {
      session.client.close(1001, 'going away');
      session.backend.close(1001, 'going away');
    }
    const deadline = Date.now() + withinMs;
    while (this.sessions.size > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    for (const session of this.sessions) {
      session.client.drop();
      session.backend.drop();
    }
  }

  private connect(
    upgrade: Upgrade,
    excluded: Set<string> | undefined,
    failure: NodeJS.ErrnoException | undefined,
  ): void {
    const { req, socket, hooked } = upgrade;
    if (socket.destroyed) return;
    const clientAddress = this.context.clientAddress(req);
    const backend = this.backendFor(upgrade, clientAddress, excluded);
    if (!backend) {
      this.reject(socket, this.noBackendAnswer(failure));
      return;
    }
    const { pool } = this.context;
    const headers = upgradeHeaders(
      upstreamRequestHeaders(hooked ? rawHeadersOf(hooked.headers) : req.rawHeaders, {
        clientAddress,
        proto: protoOf(req.socket),
      }),
    );
    const host = hooked ? hooked.headers.host : req.headers.host;
    if (typeof host === 'string') headers.host = host;
    const abandon = openBackendHandshake(
      {
        address: backend.server.address,
        path: hooked?.url ?? req.url ?? '/',
        headers,
        protocols: requestedProtocols(req),
        extensions: pool.compression
          ? deflateOffer(req.headers['sec-websocket-extensions'])
          : undefined,
        timeoutMs: pool.handshakeTimeoutMs,
        tls: backend.server.tls,
      },
      (outcome) => {
        socket.off('close', abandon);
        this.backendAnswered(upgrade, backend, excluded, outcome);
      },
    );
    socket.once('close', abandon);
  }

  private backendAnswered(
    upgrade: Upgrade,
    backend: WsBackend,
    excluded: Set<string> | undefined,
    outcome: BackendHandshakeOutcome,
  ): void {
    const { socket } = upgrade;
    if (outcome.kind === 'failed') {
      const { error } = outcome;
      const failure = isConnectionFailure(error.code) ? 'connection' : 'response';
      this.context.reportOutcome(backend, false, failure);
      const tried = new Set(excluded);
      tried.add(backend.name);
      this.connect(upgrade, tried, error);
      return;
    }
    if (outcome.kind === 'answered') {
      const status = outcome.response.statusCode ?? 502;
      if (status < 500) this.context.reportOutcome(backend, true);
      else this.context.reportOutcome(backend, false, 'response');
      relayAnswer(socket, outcome.response);
      return;
    }
    this.context.reportOutcome(backend, true);
    const { pool } = this.context;
    const opened = completeClientHandshake(upgrade, outcome, {
      backend: backend.name,
      hooks: this.context.hooks,
      clientAddress: this.context.clientAddress,
      place: { pool: this.poolName, route: upgrade.route },
      stickyCookie: () =>
        this.context.sticky?.setCookie(
          backend.server.address,
          this.context.sticky.choose(upgrade.req.headers.cookie, () => true).value,
          cameOverTls(upgrade.req),
        ),
    });
    if (!opened) return;
    const options = {
      maxMessageSize: pool.maxMessageSize,
      compressed: outcome.acceptance.compressed,
    };
    const client = new TunnelEndpoint(socket, true, options);
    const upstream = new TunnelEndpoint(outcome.socket, false, options);
    TunnelEndpoint.pair(client, upstream);
    this.relay(upgrade, client, upstream, backend, outcome);
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
        pool: this.poolName,
        status: answer.status,
        rejected: answer.reason,
      });
    }
    rejectRaw(socket, answer);
  }

  private relay(
    upgrade: Upgrade,
    client: TunnelEndpoint,
    upstream: TunnelEndpoint,
    backend: WsBackend,
    accepted: Extract<BackendHandshakeOutcome, { kind: 'accepted' }>,
  ): void {
    const session = new OpenSession(this, backend, client, upstream);
    backend.load++;
    this.context.emit({
      type: 'websocket-open',
      pool: this.poolName,
      backend: backend.name,
      url: upgrade.req.url ?? '/',
      subprotocol: accepted.acceptance.protocol,
      ...(upgrade.route === undefined ? {} : { route: upgrade.route }),
    });
    this.sessions.add(session);
    // The subscription ends with the session: both connections gone.
    tunnelSession(client, upstream).subscribe(session);
    client.start(upgrade.head);
    upstream.start(accepted.head);
  }

  /** @internal The session's end: called by its OpenSession. */
  sessionEnded(session: OpenSession, end: WsSessionEnd): void {
    const backend = session.member;
    backend.load--;
    this.sessions.delete(session);
    this.context.emit({
      type: 'websocket-close',
      pool: this.poolName,
      backend: backend.name,
      closedBy: end.closedBy,
      code: end.code,
      reason: end.reason,
      durationMs: Date.now() - session.openedAt,
      clientToBackend: end.clientToBackend,
      backendToClient: end.backendToClient,
      ...(end.error === undefined ? {} : { error: end.error }),
    });
  }
}
