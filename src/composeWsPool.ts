import type { IncomingMessage } from 'node:http';
import type { ExchangeHooks } from './adapters/hookRunner';
import { WsBackend, WsProxy } from './adapters/wsProxy';
import { BackendGroup } from './backendGroup';
import type { RandomSource } from './balancing';
import type { HttpPoolRuntime } from './composeHttpPool';
import type { ProxyEvent } from './events';
import { ServerSet } from './serverSet';

export interface WsPoolDeps {
  readonly emit: (event: ProxyEvent) => void;
  readonly random?: RandomSource;
  readonly drainTimeoutMs: () => number;
  readonly clientAddress: (req: IncomingMessage) => string | undefined;
  readonly hooks: () => ExchangeHooks | undefined;
}

/**
 * WebSocket upgrades to a named pool: the pool's servers as WebSocket backends, balanced by the
 * pool's algorithm and following the health of its HTTP runtime (one probe per server).
 */
export class FollowingWsPool {
  readonly proxy: WsProxy;
  private readonly backends: ServerSet<WsBackend>;
  private readonly group: BackendGroup<WsBackend>;

  constructor(name: string, runtime: HttpPoolRuntime, deps: WsPoolDeps) {
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
      runtime.pool,
    );
    const { backends } = this;
    const group = new BackendGroup(runtime.pool, backends.members, {
      emit: deps.emit,
      ...(deps.random ? { random: deps.random } : {}),
      leader: runtime.group,
    });
    this.group = group;
    this.proxy = new WsProxy({
      poolName: name,
      get pool() {
        return runtime.pool;
      },
      pick: (hashKey, excluded) => group.pick(hashKey, excluded),
      healthyCount: () => group.healthyCount,
      hashKeyOf: (req, address) => runtime.hashKey(req, address),
      get sticky() {
        return runtime.sticky;
      },
      reportOutcome: (member, ok, failure) => {
        if (backends.get(member.name) === member) group.reportOutcome(member.name, ok, failure);
      },
      clientAddress: deps.clientAddress,
      emit: deps.emit,
      get hooks() {
        return deps.hooks();
      },
      member: (name) => backends.get(name),
      isInRotation: (name) => group.isInRotation(name),
    });
  }

  start(): void {
    this.group.start();
  }

  release(): void {
    this.backends.destroyAll();
    this.group.stop();
  }
}
