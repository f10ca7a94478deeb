import type { IncomingMessage } from 'node:http';
import type { OperatorFunction } from './rx';
import { createHealthProber, type HealthProber } from './adapters/healthProbe';
import type { ExchangeHooks } from './adapters/hookRunner';
import type { SharedProbes } from './adapters/sharedProbes';
import { WsBackend, WsProxy, type WsProxyContext } from './adapters/wsProxy';
import type { TrafficOutcome } from './operators/outlierEjection';
import { BackendGroup, type RemoteHealth } from './backendGroup';
import type { RandomSource } from './balancing';
import { hashKeyFor, type HashKeyOf, type HttpPoolRuntime } from './composeHttpPool';
import type { PoolConfig, ServerCommand } from './config';
import type { ProxyEvent } from './events';
import { stickyCookieOf, type StickyCookie } from './forwarding/stickyCookie';
import type { HealthySnapshot } from './streams/healthySet';
import { ServerSet } from './serverSet';
import { RuntimePoolView, type BalancingRuntime } from './composePoolView';

export interface WsPoolDeps {
  readonly emit: (event: ProxyEvent) => void;
  readonly random?: RandomSource;
  readonly mapSnapshots?: OperatorFunction<HealthySnapshot, HealthySnapshot>;
  readonly drainTimeoutMs: () => number;
  readonly clientAddress: (req: IncomingMessage) => string | undefined;
  readonly hooks: () => ExchangeHooks | undefined;
  /** One probe per server address, path and interval, whatever the pools listing it. */
  readonly probes?: SharedProbes;
  /** The pool's health is the cluster primary's. */
  readonly remote?: RemoteHealth;
  /** Another pool's WebSocket proxy, for handshakes whose hooks set `req.pool`. */
  readonly routeTo?: (pool: string) => WsProxy | undefined;
}

/**
 * WebSocket upgrades to one pool: its servers as WebSocket backends, balanced by the pool's
 * algorithm. A pool that also serves HTTP (`leader`) lends its health to its upgrades, so each
 * server is probed once; the `[websocket]` pool beside an `[http]` one probes its own servers.
 */
export class WsPoolRuntime implements BalancingRuntime<WsBackend> {
  readonly proxy: WsProxy;
  readonly backends: ServerSet<WsBackend>;
  readonly group: BackendGroup<WsBackend>;
  hashKey: HashKeyOf;
  sticky: StickyCookie | undefined;
  private readonly prober: HealthProber | undefined;

  constructor(
    public pool: PoolConfig,
    deps: WsPoolDeps,
    /** The HTTP runtime of the same pool, whose health the upgrades follow. */
    readonly leader?: HttpPoolRuntime,
  ) {
    this.hashKey = hashKeyFor(pool);
    this.sticky = stickyCookieOf(pool);
    this.backends = new ServerSet<WsBackend>(
      {
        create: (server) => new WsBackend(server),
        update: (backend, server) => {
          backend.server = server;
        },
        // Open WebSockets stay until drain_timeout, then close with 1001.
        drain: (backend, done) => {
          const timer = setTimeout(() => {
            this.proxy.closeBackend(backend);
            done();
          }, deps.drainTimeoutMs());
          return () => clearTimeout(timer);
        },
        destroy: () => undefined,
      },
      pool,
    );
    this.prober =
      leader || deps.remote ? undefined : createHealthProber(() => this.pool, deps.probes);
    this.group = new BackendGroup(pool, this.backends.members, {
      emit: deps.emit,
      ...(deps.random ? { random: deps.random } : {}),
      ...(leader
        ? { leader: leader.group }
        : {
            ...(this.prober ? { probe: this.prober.probe } : {}),
            ...(deps.mapSnapshots ? { mapSnapshots: deps.mapSnapshots } : {}),
            ...(deps.remote ? { remote: deps.remote } : {}),
          }),
    });
    this.proxy = new WsProxy(new RuntimeContext(this, deps));
  }

  /** The pool's part of a reload: servers added, changed and removed, then its new settings. */
  apply(next: PoolConfig, commands: readonly ServerCommand[]): void {
    this.pool = next;
    this.hashKey = hashKeyFor(next);
    this.sticky = stickyCookieOf(next);
    this.proxy.reconfigure();
    this.backends.apply(commands, next);
  }

  /** After apply (and after the leader's): the group takes the new members and settings. */
  reconfigureGroup(): void {
    this.group.reconfigure(this.pool, this.backends.members);
  }

  member(name: string): WsBackend | undefined {
    return this.backends.get(name);
  }

  /** Outcomes of a member that drains after its address changed say nothing of the new one. */
  reportOutcome(member: WsBackend, ok: boolean, failure?: TrafficOutcome['failure']): void {
    if (this.backends.get(member.name) === member) {
      this.group.reportOutcome(member.name, ok, failure);
    }
  }

  /** Open WebSockets, on servers in the pool and on removed ones still draining. */
  get load(): number {
    let load = 0;
    for (const backend of this.backends.members) load += backend.load;
    for (const backend of this.backends.drainingMembers) load += backend.load;
    return load;
  }

  start(): void {
    this.group.start();
  }

  /** Closes what is still open (with 1001 within `graceMs`), then stops health and timers. */
  async release(graceMs = 0): Promise<void> {
    await this.proxy.closeAll(graceMs);
    this.backends.destroyAll();
    this.group.stop();
    await this.prober?.close();
  }
}

/** What the WebSocket relay reads of its pool, as the pool is now (reloads replace settings). */
class RuntimeContext extends RuntimePoolView<WsBackend> implements WsProxyContext {
  constructor(
    runtime: WsPoolRuntime,
    private readonly deps: WsPoolDeps,
  ) {
    super(runtime, deps.clientAddress);
  }

  get hooks(): ExchangeHooks | undefined {
    return this.deps.hooks();
  }
  get emit(): (event: ProxyEvent) => void {
    return this.deps.emit;
  }
  // A property, not a method: the relay hands it on without its object.
  readonly routeTo = (pool: string): WsProxy | undefined => this.deps.routeTo?.(pool);
}
