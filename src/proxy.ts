import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Subject, defer, filter, lastValueFrom, map, startWith, type Observable } from './rx';
import { HttpExchange } from './adapters/httpExchange';
import type { Server as HttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import {
  closeAllConnections,
  closeIdleConnections,
  createFrontend,
  setHeaderTimeout,
  type FrontDoor,
} from './adapters/httpFrontend';
import { FrontCertificates, expiryWarning } from './adapters/frontCertificates';
import { createHttpsRedirect } from './adapters/httpsRedirect';
import type { RandomSource } from './balancing';
import {
  describeChanges,
  formatProblem,
  reconcile,
  sameValue,
  unverifiedTls,
  type Config,
  type FrontendConfig,
  type RouteConfig,
  type ServerCommand,
} from './config';
import type { ProxyEvent } from './events';
import { drainOutcome, type DrainOutcome } from './streams/drainOutcome';
import { deliverEvents } from './adapters/eventsHook';
import { randomUUID } from 'node:crypto';
import { builtinHooks, exchangeHooks, healthySetHook } from './composeHooks';
import { PoolExchangeContext, type ExchangeSide, type HttpPoolRuntime } from './composeHttpPool';
import { answer } from './adapters/proxyAnswer';
import { NO_ROUTE } from './forwarding/failures';
import { normalizePath } from './routing/normalizePath';
import { RouteTable } from './routing/routeTable';
import { routeMatchReport, routesReport } from './observability/routesReport';
import { PoolRuntimes } from './composeRuntimes';
import { SharedProbes } from './adapters/sharedProbes';
import type { RemoteHealth } from './backendGroup';
import { rejectRaw } from './adapters/rawResponse';
import { stripPathPrefix } from './routing/stripPathPrefix';
import { forwardedClient } from './forwarding/clientAddress';
import { cidrMatcher } from './net/cidr';
import type { ProxyHooks } from './hooks/types';
import type { LiveState } from './observability/liveState';
import { createAdmin } from './composeAdmin';
import type { AdminServer, ReloadAnswer } from './adapters/adminServer';

/**
 * The client's address: the peer's, or behind `trusted_proxies` the one they forwarded for.
 * Without trusted proxies this is a plain field read.
 */
function clientAddressOf(config: Config): (req: IncomingMessage) => string | undefined {
  const ranges = config.frontend.trustedProxies;
  if (ranges.length === 0) return (req) => req.socket.remoteAddress;
  const trusted = cidrMatcher(ranges);
  return (req) =>
    forwardedClient(req.socket.remoteAddress, req.headers['x-forwarded-for'], trusted)
      .clientAddress;
}

export interface ProxyOptions {
  /** Source for the random algorithm; tests pass a seeded one. */
  readonly random?: RandomSource;
  /** The program's own hooks; they run after the built-ins and the hook module's. */
  readonly hooks?: ProxyHooks;
  /** The hooks of `[hooks] module`, as `loadHookModule` returned them. */
  readonly moduleHooks?: ProxyHooks;
  /**
   * Reads the configuration file afresh (and its hook module), for reloads by SIGHUP, file
   * watch or `POST /reload`. Without it only `reload(config)` reloads.
   */
  readonly loadConfig?: () => Promise<LoadedConfig>;
  /** A cluster worker's: every pool's health comes from the primary, which probes and ejects. */
  readonly cluster?: { readonly health: RemoteHealth };
}

export type LoadedConfig =
  | { readonly ok: true; readonly config: Config; readonly moduleHooks?: ProxyHooks }
  | { readonly ok: false; readonly problems: readonly string[] };

export interface Proxy {
  /** Binds the frontend; resolves with the bound address (port 0 becomes a real port). */
  start(): Promise<AddressInfo>;
  /**
   * Stops accepting, lets in-flight requests finish for up to drain_timeout, then closes
   * everything. Safe to call more than once. After a failed start (or none) there is nothing to
   * drain: it only releases resources and emits no events.
   */
  stop(): Promise<DrainOutcome>;
  readonly address: AddressInfo | undefined;
  readonly events$: Observable<ProxyEvent>;
  /** The pools, servers and readiness as they are now, for the admin surface. */
  readonly live: LiveState;
  /** The configuration in effect: the one it was created with, then each applied reload's. */
  readonly config: Config;
  /** The admin listener's address, with `[admin] port` set and once started. */
  readonly adminAddress: AddressInfo | undefined;
  /**
   * Applies a new configuration without a restart: servers added, changed and removed (removed
   * ones drain), settings from the next decision on, listeners rebound. Resolves with a summary
   * of what changed; rejects with a ReloadRejected listing every problem, changing nothing.
   */
  reload(config: Config, options?: ReloadOptions): Promise<string>;
  /**
   * Reads the file again with `loadConfig` and reloads it; never rejects. Reloads run one at a
   * time, in order.
   */
  reloadFile(trigger: string): Promise<ReloadAnswer>;
  /** Drains, enables or reweights a server at runtime (the admin API's server control). */
  control(pool: string, server: string, command: ServerControl): ControlResult;
}

export interface ReloadOptions {
  /** The hooks of the new `[hooks] module`, loaded afresh by the caller. */
  readonly moduleHooks?: ProxyHooks;
  /** What triggered the reload, for the events: `SIGHUP`, `watch`, `admin`; default `api`. */
  readonly trigger?: string;
}

export type ServerControl =
  { readonly action: 'drain' | 'enable' } | { readonly action: 'weight'; readonly weight: number };
export type ControlResult = 'ok' | 'unknown pool' | 'unknown server';

/** A configuration a reload refused; the running one stays. */
export class ReloadRejected extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`configuration rejected: ${problems.join('; ')}`);
    this.name = 'ReloadRejected';
  }
}

/** The request id and other hook metadata for the `request` event, when there are any. */
function metaFields(meta: Record<string, unknown>) {
  const { requestId, ...rest } = meta;
  return {
    ...(typeof requestId === 'string' ? { requestId } : {}),
    ...(Object.keys(rest).length === 0 ? {} : { meta: rest }),
  };
}

export function createProxy(initial: Config, options: ProxyOptions = {}): Proxy {
  const events = new Subject<ProxyEvent>();
  const emit = (event: ProxyEvent) => events.next(event);
  let config = initial;
  let moduleHooks = options.moduleHooks;
  const hookSetsOf = (hooksConfig: Config['hooks']) =>
    [builtinHooks(hooksConfig, randomUUID), moduleHooks, options.hooks].filter(
      (set): set is ProxyHooks => set !== undefined,
    );
  let hookSets = hookSetsOf(config.hooks);
  let clientAddress = clientAddressOf(config);
  const mapSnapshots = healthySetHook(hookSets);
  let eventHooks = hookSets.flatMap((set) =>
    set.events ? [deliverEvents(events, set.events, emit)] : [],
  );
  const random = options.random ? { random: options.random } : {};
  const snapshotHook = mapSnapshots ? { mapSnapshots } : {};
  let started = false;
  let hooks = exchangeHooks(hookSets, { timeoutMs: config.hooks.hookTimeoutMs, emit });
  let inFlight = 0;
  let draining = false;
  /** Set when stop() is called: readiness fails at once, the drain may start later. */
  let shuttingDown = false;
  /** start() resolved: the proxy served, so a stop honours shutdown_delay. */
  let serving = false;
  let address: AddressInfo | undefined;
  let stopping: Promise<DrainOutcome> | undefined;

  /** What the exchanges of every pool share. */
  const exchangeSide: ExchangeSide = {
    hooks: () => hooks,
    clientAddress: (req) => clientAddress(req),
    draining: () => draining,
    routeTo: (name) => runtimes.context(name),
    onRetry: (pool, backend, code) => emit({ type: 'retry', pool, backend, code }),
    onFinished: (pool, outcome) => {
      inFlight--;
      events.next({
        type: 'request',
        pool,
        method: outcome.req.method ?? '',
        url: outcome.req.url ?? '',
        backend: outcome.backend,
        status: outcome.status,
        durationMs: outcome.durationMs,
        ...(outcome.error === undefined ? {} : { error: outcome.error }),
        ...(outcome.rejected === undefined ? {} : { rejected: outcome.rejected }),
        ...(outcome.meta && metaFields(outcome.meta)),
        ...(outcome.route === undefined ? {} : { route: outcome.route }),
      });
    },
  };
  const contextOf = (runtime: HttpPoolRuntime) => new PoolExchangeContext(runtime, exchangeSide);
  const drainTimeoutMs = () => config.frontend.drainTimeoutMs;
  const probes = new SharedProbes();
  const remote = options.cluster ? { remote: options.cluster.health } : {};
  const runtimes: PoolRuntimes = new PoolRuntimes(config, {
    http: {
      emit,
      ...random,
      ...snapshotHook,
      drainTimeoutMs,
      started: () => started,
      maxBodySize: () => config.frontend.maxBodySize,
      bodyTimeoutMs: () => config.frontend.bodyTimeoutMs,
      probes,
      ...remote,
    },
    ws: {
      emit,
      ...random,
      ...snapshotHook,
      drainTimeoutMs,
      clientAddress: (req: IncomingMessage) => clientAddress(req),
      hooks: () => hooks,
      routeTo: (name: string) => runtimes.wsProxy(name),
      probes,
      ...remote,
    },
    contextOf,
    drainTimeoutMs,
  });
  let routes = new RouteTable(config.routes);

  /** The route a request takes, its url normalised (and its prefix stripped); none: the default. */
  const routeFor = (req: IncomingMessage): RouteConfig | undefined => {
    if (config.routes.length === 0) return undefined;
    const path = normalizePath(req.url ?? '/');
    const route = routes.route(req.headers.host, path);
    const url = route?.stripPathPrefix ? stripPathPrefix(path, route.pathPrefix ?? '/') : path;
    if (url !== req.url) req.url = url;
    return route;
  };
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const route = routeFor(req);
    const pool = route?.pool ?? runtimes.defaultForRequests;
    const routed = pool === undefined ? undefined : runtimes.context(pool);
    if (!routed) {
      answer(res, NO_ROUTE);
      emit({
        type: 'request',
        pool: '',
        method: req.method ?? '',
        url: req.url ?? '',
        backend: undefined,
        status: NO_ROUTE.status,
        durationMs: 0,
        rejected: 'no_route',
      });
      return;
    }
    inFlight++;
    new HttpExchange(req, res, routed, route?.name).start();
  };

  /** The front door for `frontend`: over TLS with its certificates, polled while it listens. */
  const newFrontend = (frontend: FrontendConfig): FrontDoor => {
    const handlers = {
      headerTimeoutMs: frontend.headerTimeoutMs,
      onRequest,
      onUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => {
        if (draining) {
          socket.destroy();
          return;
        }
        const route = routeFor(req);
        const pool = route?.websocketPool ?? runtimes.defaultForUpgrades;
        const proxy = pool === undefined ? undefined : runtimes.wsProxy(pool);
        if (proxy) proxy.handleUpgrade(req, socket, head, route?.name);
        else {
          rejectRaw(socket, NO_ROUTE);
          emit({ type: 'websocket-rejected', pool: '', status: 404, rejected: 'no_route' });
        }
      },
      onClientError: (event: ProxyEvent) => events.next(event),
    };
    if (frontend.certificates.length === 0) return createFrontend(handlers);
    const certificates = new FrontCertificates(frontend, emit);
    const door = createFrontend(
      handlers,
      certificates.serverOptions(frontend.headerTimeoutMs),
      frontend.http2 ? { maxConcurrentStreams: frontend.h2MaxConcurrentStreams } : undefined,
    );
    certificates.attach(door as HttpsServer);
    return door;
  };
  let server = newFrontend(config.frontend);
  /** The `redirect_http_port` listener, bound with the front door. */
  let redirect: HttpServer | undefined;
  const newRedirect = (frontend: FrontendConfig) =>
    frontend.redirectHttpPort === undefined
      ? undefined
      : createHttpsRedirect(() => address?.port ?? config.frontend.port);
  /** Front doors replaced by a reload: they serve their open connections to the end. */
  const retiredServers = new Set<typeof server>();

  const live: LiveState = {
    pools: () => runtimes.live(),
    routes: () => config.routes.map((route) => route.name),
    requestsInFlight: () => inFlight,
    readiness: () => {
      if (!server.listening) return { ready: false, reason: 'the front door is not listening' };
      if (shuttingDown) return { ready: false, reason: 'shutting down' };
      if (!runtimes.anyInRotation) {
        return { ready: false, reason: 'no backend in rotation' };
      }
      return { ready: true, reason: 'ready' };
    },
  };

  const inFlight$ = defer(() =>
    events.pipe(
      filter((event) => event.type === 'request'),
      map(() => inFlight),
      startWith(inFlight),
    ),
  );

  const listenOn = (target: typeof server, host: string, port: number) =>
    new Promise<AddressInfo>((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      target.once('error', onError);
      target.listen(port, host, () => {
        target.off('error', onError);
        target.on('error', (error: Error) =>
          events.next({ type: 'internal-error', source: 'frontend', message: error.message }),
        );
        resolve(target.address() as AddressInfo);
      });
    });

  async function closeServer(target: typeof server): Promise<void> {
    if (!target.listening) return;
    await new Promise<void>((resolve) => target.close(() => resolve()));
  }

  /** A redirect answer is quick: its listener closes with its connections. */
  async function closeRedirect(target: HttpServer | undefined): Promise<void> {
    if (!target) return;
    const closed = closeServer(target);
    target.closeAllConnections();
    await closed;
  }

  /** Binds the redirect listener on the front door's host; a failure names that listener. */
  async function listenRedirect(target: HttpServer, frontend: FrontendConfig): Promise<void> {
    try {
      await listenOn(target, frontend.host, frontend.redirectHttpPort ?? 0);
    } catch (error) {
      throw Object.assign(error as Error, { listener: 'redirect' });
    }
  }

  /** Readiness fails at once; the front door serves on for shutdown_delay, then drains. */
  async function delayThenDrain(): Promise<DrainOutcome> {
    shuttingDown = true;
    const delay = config.frontend.shutdownDelayMs;
    if (delay > 0 && serving) await new Promise((resolve) => setTimeout(resolve, delay));
    return drainAndClose();
  }

  async function drainAndClose(): Promise<DrainOutcome> {
    draining = true;
    events.next({ type: 'draining', inFlight, timeoutMs: config.frontend.drainTimeoutMs });
    const doors = [server, ...retiredServers];
    const closed = Promise.all([...doors.map(closeServer), closeRedirect(redirect)]);
    for (const door of doors) closeIdleConnections(door);
    const [outcome] = await Promise.all([
      lastValueFrom(drainOutcome(inFlight$, config.frontend.drainTimeoutMs)),
      runtimes.closeWebSockets(Math.min(2000, config.frontend.drainTimeoutMs)),
    ]);
    for (const door of doors) closeAllConnections(door);
    await closed;
    await release();
    events.next({ type: 'stopped', drained: outcome.drained, abandoned: outcome.remaining });
    events.complete();
    await admin?.close();
    return outcome;
  }

  let reloading: Promise<unknown> = Promise.resolve();
  /** Reloads from the file, one at a time; problems are answered, not thrown. */
  function reloadFile(trigger: string): Promise<ReloadAnswer> {
    const load = options.loadConfig;
    const run = async (): Promise<ReloadAnswer> => {
      if (!load) return { ok: false, problems: ['no configuration file to reload'] };
      const loaded = await load();
      if (!loaded.ok) {
        emit({ type: 'config-rejected', trigger, problems: loaded.problems });
        return loaded;
      }
      try {
        const reloadOptions = loaded.moduleHooks ? { moduleHooks: loaded.moduleHooks } : {};
        const summary = await applyReload(loaded.config, { ...reloadOptions, trigger });
        return { ok: true, summary };
      } catch (error) {
        return { ok: false, problems: (error as ReloadRejected).problems };
      }
    };
    return oneAtATime(run);
  }

  /** Runs reloads one after the other, in the order they were asked for. */
  function oneAtATime<T>(run: () => Promise<T>): Promise<T> {
    const next = reloading.then(run, run);
    reloading = next.catch(() => undefined);
    return next;
  }
  /** The pools of what no route takes: requests' first, upgrades' last. */
  const defaultPools = () =>
    [runtimes.defaultForRequests, runtimes.defaultForUpgrades].filter(
      (pool): pool is string => pool !== undefined,
    );
  const adminCommands = {
    control: (poolName: string, name: string, command: ServerControl) =>
      control(poolName, name, command),
    routing: {
      list: () => routesReport(config.routes, defaultPools()),
      match: (host: string | undefined, path: string) =>
        routeMatchReport(routes, host, path, defaultPools()),
    },
    ...(options.loadConfig ? { reload: () => reloadFile('admin') } : {}),
  };

  let admin: AdminServer | undefined = createAdmin(config, live, events, adminCommands);

  async function release(): Promise<void> {
    for (const subscription of eventHooks) subscription.unsubscribe();
    await runtimes.release();
  }

  /** A proxy that never listened has nothing to drain: it releases its resources silently. */
  async function releaseUnstarted(): Promise<DrainOutcome> {
    await release();
    events.complete();
    await admin?.close();
    return { drained: true, remaining: 0 };
  }

  function warnOfExpiry(of: Config): void {
    for (const certificate of of.frontend.certificates) {
      const warning = expiryWarning(certificate);
      if (warning) emit(warning);
    }
  }

  /** Binds what a reload moves (front door, admin listener) before anything else changes. */
  async function bindMoved(next: Config, frontendMoves: boolean, adminMoves: boolean) {
    let door: FrontDoor | undefined;
    const nextRedirect = frontendMoves ? newRedirect(next.frontend) : undefined;
    let redirectClosed = false;
    const nextAdmin = adminMoves ? createAdmin(next, live, events, adminCommands) : undefined;
    let section = 'frontend';
    let key = 'port';
    try {
      door = frontendMoves ? newFrontend(next.frontend) : undefined;
      const doorAddress = door ? await listenBeside(door, next) : undefined;
      key = 'redirect_http_port';
      if (nextRedirect) {
        // Same port: the old redirect closes first (its answers are quick, nothing is lost).
        const oldPort = (redirect?.address() as AddressInfo | null)?.port;
        if (redirect && oldPort === next.frontend.redirectHttpPort) {
          await closeRedirect(redirect);
          redirectClosed = true;
        }
        await listenRedirect(nextRedirect, next.frontend);
      }
      section = 'admin';
      key = 'port';
      // The admin listener keeps no connections worth a second socket: on the same port it
      // closes before the new one binds.
      if (nextAdmin && next.admin.port !== undefined && next.admin.port === admin?.address?.port) {
        await admin.close();
      }
      await nextAdmin?.listen();
      return { door, doorAddress, nextAdmin, nextRedirect };
    } catch (error) {
      if (door) await closeServer(door);
      await closeRedirect(nextRedirect);
      if (redirect && redirectClosed) {
        await listenRedirect(redirect, config.frontend).catch(() => undefined);
      }
      await nextAdmin?.close();
      throw new ReloadRejected([
        formatProblem({
          file: next.file,
          section,
          key,
          message: `cannot listen: ${(error as Error).message}`,
        }),
      ]);
    }
  }

  /**
   * Binds the new front door while the old one still accepts. Node 20 cannot bind the same port
   * on an overlapping address twice: then the old one stops accepting first (its open
   * connections are served to the end) and the gap is logged.
   */
  async function listenBeside(door: typeof server, next: Config): Promise<AddressInfo> {
    const { host, port } = next.frontend;
    try {
      return await listenOn(door, host, port);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EADDRINUSE' || port !== address?.port) throw error;
      emit({
        type: 'internal-error',
        source: 'reload',
        message: `port ${port} cannot be bound twice: the old listener stops accepting before the new one binds`,
      });
      await new Promise<void>((resolve) => server.close(() => resolve()));
      return listenOn(door, host, port);
    }
  }

  async function applyReload(next: Config, reloadOptions: ReloadOptions = {}): Promise<string> {
    const trigger = reloadOptions.trigger ?? 'api';
    try {
      if (stopping) throw new ReloadRejected(['the proxy is shutting down']);
      const changes = reconcile(config, next);
      const unverifiedBefore = unverifiedTls(config);
      const bound = await bindMoved(
        next,
        started && changes.frontend.rebind,
        changes.admin.keys.length > 0,
      );
      apply(next, changes.commands, reloadOptions);
      if (bound.door && bound.doorAddress) {
        const old = server;
        server = bound.door;
        address = bound.doorAddress;
        retiredServers.add(old);
        void closeServer(old).then(() => retiredServers.delete(old));
        closeIdleConnections(old);
        events.next({ type: 'listening', host: address.address, port: address.port });
        const oldRedirect = redirect;
        redirect = bound.nextRedirect;
        if (oldRedirect !== redirect) void closeRedirect(oldRedirect);
      } else {
        setHeaderTimeout(server, next.frontend.headerTimeoutMs);
      }
      if (changes.admin.keys.length > 0) {
        const old = admin;
        admin = bound.nextAdmin;
        await old?.close();
      }
      const summary = describeChanges(changes);
      emit({ type: 'config-applied', trigger, summary });
      if (bound.door) warnOfExpiry(next);
      // A reload that turns certificate checks off (or adds servers without them) says so too.
      for (const unverified of unverifiedTls(next)) {
        if (!unverifiedBefore.some((before) => sameValue(before, unverified))) {
          emit({ type: 'tls-unverified', ...unverified });
        }
      }
      return summary;
    } catch (error) {
      const problems =
        error instanceof ReloadRejected ? error.problems : [(error as Error).message];
      emit({ type: 'config-rejected', trigger, problems });
      throw error instanceof ReloadRejected ? error : new ReloadRejected(problems);
    }
  }

  /** Everything of a reload that cannot fail, in one synchronous step. */
  function apply(next: Config, commands: readonly ServerCommand[], reloadOptions: ReloadOptions) {
    const previousHooks = config.hooks;
    const previousRoutes = config.routes;
    config = next;
    clientAddress = clientAddressOf(next);
    runtimes.apply(next, commands);
    if (!sameValue(previousRoutes, next.routes)) routes = new RouteTable(next.routes);
    if (reloadOptions.moduleHooks !== undefined || previousHooks !== next.hooks) {
      moduleHooks = reloadOptions.moduleHooks ?? moduleHooks;
      hookSets = hookSetsOf(next.hooks);
      hooks = exchangeHooks(hookSets, { timeoutMs: next.hooks.hookTimeoutMs, emit });
      for (const subscription of eventHooks) subscription.unsubscribe();
      eventHooks = hookSets.flatMap((set) =>
        set.events ? [deliverEvents(events, set.events, emit)] : [],
      );
    }
  }

  function control(poolName: string, name: string, command: ServerControl): ControlResult {
    const groups = runtimes.groups(poolName);
    if (groups.length === 0) return 'unknown pool';
    if (!runtimes.hasServer(poolName, name)) return 'unknown server';
    for (const group of groups) {
      if (command.action === 'weight') group.setWeight(name, command.weight);
      else group.setDrained(name, command.action === 'drain');
    }
    emit({
      type: 'server-control',
      pool: poolName,
      backend: name,
      action: command.action,
      ...(command.action === 'weight' ? { weight: command.weight } : {}),
    });
    return 'ok';
  }

  return {
    get address() {
      return address;
    },
    events$: events.asObservable(),
    live,
    get config() {
      return config;
    },
    get adminAddress() {
      return admin?.address;
    },
    reload: (next, reloadOptions) => oneAtATime(() => applyReload(next, reloadOptions)),
    reloadFile,
    control,
    start: async () => {
      // The admin listener first: probes answer (503) from the moment the front door opens.
      await admin?.listen();
      const listening = await listenOn(server, config.frontend.host, config.frontend.port);
      address = listening;
      events.next({ type: 'listening', host: listening.address, port: listening.port });
      redirect = newRedirect(config.frontend);
      if (redirect) await listenRedirect(redirect, config.frontend);
      for (const unverified of unverifiedTls(config)) {
        events.next({ type: 'tls-unverified', ...unverified });
      }
      warnOfExpiry(config);
      started = true;
      await runtimes.start();
      serving = true;
      return listening;
    },
    stop: () => (stopping ??= address ? delayThenDrain() : releaseUnstarted()),
  };
}
