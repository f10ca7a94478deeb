import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Subject, defer, filter, lastValueFrom, map, startWith, type Observable } from 'rxjs';
import { HttpExchange, type ExchangeContext, type ExchangeOutcome } from './adapters/httpExchange';
import { createFrontend } from './adapters/httpFrontend';
import { PendingLine } from './adapters/pendingLine';
import { upstreamError } from './adapters/upstreamWorker';
import { WorkerPool } from './adapters/workerPool';
import { MemoryBudget } from './adapters/requestBody';
import { WsBackend, WsProxy } from './adapters/wsProxy';
import { createHealthProber } from './adapters/healthProbe';
import { BackendGroup } from './backendGroup';
import type { RandomSource } from './balancing';
import { hashKeyOf } from './forwarding/hashKey';
import type { Config, PoolConfig } from './config';
import type { ProxyEvent } from './events';
import { drainOutcome, type DrainOutcome } from './streams/drainOutcome';
import { deliverEvents } from './adapters/eventsHook';
import { randomUUID } from 'node:crypto';
import { builtinHooks, exchangeHooks, healthySetHook } from './composeHooks';
import { forwardedClient } from './forwarding/clientAddress';
import { cidrMatcher } from './net/cidr';
import type { ProxyHooks } from './hooks/types';
import type { LiveState } from './observability/liveState';
import { createAdmin } from './composeAdmin';
import { livePool } from './observability/livePools';

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
}

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
  /** The admin listener's address, with `[admin] port` set and once started. */
  readonly adminAddress: AddressInfo | undefined;
}

/** HTTP requests go to the [http] pool, or to the [websocket] servers when there is none. */
function httpPool(config: Config): PoolConfig {
  const pool = config.http ?? config.websocket;
  if (!pool) throw new Error(`${config.file}: no [http] or [websocket] section`);
  return pool;
}

/** The request id and other hook metadata for the `request` event, when there are any. */
function metaFields(meta: Record<string, unknown>) {
  const { requestId, ...rest } = meta;
  return {
    ...(typeof requestId === 'string' ? { requestId } : {}),
    ...(Object.keys(rest).length === 0 ? {} : { meta: rest }),
  };
}

export function createProxy(config: Config, options: ProxyOptions = {}): Proxy {
  const events = new Subject<ProxyEvent>();
  const pool = httpPool(config);
  const emit = (event: ProxyEvent) => events.next(event);
  const hookSets = [
    builtinHooks(config.hooks, randomUUID),
    options.moduleHooks,
    options.hooks,
  ].filter((set): set is ProxyHooks => set !== undefined);
  const clientAddress = clientAddressOf(config);
  /** consistent-hash's key for a request of `forPool`; other algorithms need none. */
  const hashKeyFor = (forPool: PoolConfig) =>
    forPool.algorithm === 'consistent-hash'
      ? (req: IncomingMessage, address: string | undefined) =>
          hashKeyOf(forPool.hashKey, req, address)
      : () => undefined;
  const mapSnapshots = healthySetHook(hookSets);
  const snapshotHook = mapSnapshots ? { mapSnapshots } : {};
  for (const set of hookSets) if (set.events) deliverEvents(events, set.events, emit);
  const line = pool.maxPending > 0 ? new PendingLine(pool.maxPending) : undefined;
  const backends: readonly WorkerPool[] = pool.servers.map(
    (server) =>
      new WorkerPool(server, pool, {
        emit,
        line,
        onConnectFailure: (name) => httpGroup.reportOutcome(name, false, 'connection'),
      }),
  );
  const random = options.random ? { random: options.random } : {};
  const httpProber = createHealthProber(pool);
  const httpGroup: BackendGroup<WorkerPool> = new BackendGroup(pool, backends, {
    probe: httpProber.probe,
    emit,
    ...random,
    ...snapshotHook,
    // A backend back in rotation gets a connection attempt now and serves the line.
    onSnapshot: () => {
      for (const backend of backends) {
        if (!httpGroup.isInRotation(backend.name)) continue;
        backend.tryConnectingNow();
        backend.serveLine();
      }
    },
  });
  // Upgrades go to the [websocket] servers, or to the [http] ones when there is no [websocket].
  const wsPool = config.websocket ?? pool;
  const wsBackends = wsPool.servers.map((server) => new WsBackend(server));
  const wsBackendsByName = new Map(wsBackends.map((backend) => [backend.name, backend]));
  const wsProber = wsPool === pool ? undefined : createHealthProber(wsPool);
  const wsGroup = new BackendGroup(wsPool, wsBackends, {
    emit,
    ...random,
    ...(wsProber ? { probe: wsProber.probe, ...snapshotHook } : { leader: httpGroup }),
  });
  const hooks = exchangeHooks(hookSets, {
    timeoutMs: config.hooks.hookTimeoutMs,
    emit,
  });
  const wsProxy = new WsProxy({
    pool: wsPool,
    pick: (hashKey, excluded) => wsGroup.pick(hashKey, excluded),
    healthyCount: () => wsGroup.healthyCount,
    hashKeyOf: hashKeyFor(wsPool),
    reportOutcome: (backend, ok, failure) => wsGroup.reportOutcome(backend, ok, failure),
    clientAddress,
    emit,
    hooks,
    member: (name) => wsBackendsByName.get(name),
    isInRotation: (name) => wsGroup.isInRotation(name),
  });
  let inFlight = 0;
  let draining = false;
  /** Set when stop() is called: readiness fails at once, the drain may start later. */
  let shuttingDown = false;
  /** start() resolved: the proxy served, so a stop honours shutdown_delay. */
  let serving = false;
  let address: AddressInfo | undefined;
  let stopping: Promise<DrainOutcome> | undefined;

  const backendsByName = new Map(backends.map((backend) => [backend.name, backend]));
  const context: ExchangeContext = {
    pool,
    member: (name) => backendsByName.get(name),
    hooks,
    pick: (hashKey, excluded) => httpGroup.pick(hashKey, excluded),
    healthyCount: () => httpGroup.healthyCount,
    isInRotation: (backend) => httpGroup.isInRotation(backend),
    line,
    hashKeyOf: hashKeyFor(pool),
    reportOutcome: (backend, ok, failure) => httpGroup.reportOutcome(backend, ok, failure),
    clientAddress,
    draining: () => draining,
    body: {
      bufferSize: pool.requestBufferSize,
      maxBodySize: config.frontend.maxBodySize,
      timeoutMs: config.frontend.bodyTimeoutMs,
      budget: new MemoryBudget(pool.requestBufferTotal),
    },
    onRetry: (backend, code) => emit({ type: 'retry', pool: pool.kind, backend, code }),
    onFinished: (outcome: ExchangeOutcome) => {
      inFlight--;
      events.next({
        type: 'request',
        pool: pool.kind,
        method: outcome.req.method ?? '',
        url: outcome.req.url ?? '',
        backend: outcome.backend,
        status: outcome.status,
        durationMs: outcome.durationMs,
        ...(outcome.error === undefined ? {} : { error: outcome.error }),
        ...(outcome.rejected === undefined ? {} : { rejected: outcome.rejected }),
        ...(outcome.meta && metaFields(outcome.meta)),
      });
    },
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    inFlight++;
    new HttpExchange(req, res, context).start();
  };

  const server = createFrontend({
    headerTimeoutMs: config.frontend.headerTimeoutMs,
    onRequest,
    onUpgrade: (req, socket, head) => {
      if (draining) socket.destroy();
      else wsProxy.handleUpgrade(req, socket, head);
    },
    onClientError: (event) => events.next(event),
  });

  const httpView = {
    config: pool,
    snapshot: () => httpGroup.snapshot,
    workers: (name: string) => backendsByName.get(name),
    ...(wsPool === pool
      ? { websockets: (name: string) => wsBackendsByName.get(name)?.load ?? 0 }
      : {}),
  };
  const wsView =
    wsPool === pool
      ? undefined
      : {
          config: wsPool,
          snapshot: () => wsGroup.snapshot,
          websockets: (name: string) => wsBackendsByName.get(name)?.load ?? 0,
        };
  const live: LiveState = {
    pools: () => (wsView ? [livePool(httpView), livePool(wsView)] : [livePool(httpView)]),
    requestsInFlight: () => inFlight,
    readiness: () => {
      if (!server.listening) return { ready: false, reason: 'the front door is not listening' };
      if (shuttingDown) return { ready: false, reason: 'shutting down' };
      if (httpGroup.healthyCount === 0 && wsGroup.healthyCount === 0) {
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

  async function closeServer(): Promise<void> {
    if (!server.listening) return;
    await new Promise<void>((resolve) => server.close(() => resolve()));
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
    const closed = closeServer();
    server.closeIdleConnections();
    const [outcome] = await Promise.all([
      lastValueFrom(drainOutcome(inFlight$, config.frontend.drainTimeoutMs)),
      wsProxy.closeAll(Math.min(2000, config.frontend.drainTimeoutMs)),
    ]);
    server.closeAllConnections();
    await closed;
    await release();
    events.next({ type: 'stopped', drained: outcome.drained, abandoned: outcome.remaining });
    events.complete();
    await admin?.close();
    return outcome;
  }

  const admin = createAdmin(config, live, events);

  async function release(): Promise<void> {
    line?.close(upstreamError('SHUTTING_DOWN', 'the proxy is shutting down'));
    for (const backend of backends) backend.destroy();
    httpGroup.stop();
    wsGroup.stop();
    await Promise.all([httpProber.close(), wsProber?.close()]);
  }

  /** A proxy that never listened has nothing to drain: it releases its resources silently. */
  async function releaseUnstarted(): Promise<DrainOutcome> {
    await release();
    events.complete();
    await admin?.close();
    return { drained: true, remaining: 0 };
  }

  return {
    get address() {
      return address;
    },
    events$: events.asObservable(),
    live,
    get adminAddress() {
      return admin?.address;
    },
    start: () =>
      new Promise<AddressInfo>((resolve, reject) => {
        const onError = (error: Error) => reject(error);
        server.once('error', onError);
        server.listen(config.frontend.port, config.frontend.host, () => {
          server.off('error', onError);
          server.on('error', (error) =>
            events.next({ type: 'internal-error', source: 'frontend', message: error.message }),
          );
          address = server.address() as AddressInfo;
          events.next({ type: 'listening', host: address.address, port: address.port });
          const listening = address;
          httpGroup.start();
          wsGroup.start();
          const started = Promise.all(backends.map((backend) => backend.start()));
          void Promise.all([started, admin?.listen()]).then(() => {
            serving = true;
            resolve(listening);
          }, reject);
        });
      }),
    stop: () => (stopping ??= address ? delayThenDrain() : releaseUnstarted()),
  };
}
