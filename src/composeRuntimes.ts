import type { ExchangeContext } from './adapters/httpExchange';
import type { WsProxy } from './adapters/wsProxy';
import type { BackendGroup, Member } from './backendGroup';
import { HttpPoolRuntime, type HttpPoolDeps } from './composeHttpPool';
import { WsPoolRuntime, type WsPoolDeps } from './composeWsPool';
import { poolsByName, type Config, type PoolConfig, type ServerCommand } from './config';
import { livePool } from './observability/livePools';
import type { LivePool } from './observability/liveState';

export interface PoolRuntimesDeps {
  readonly http: HttpPoolDeps;
  readonly ws: WsPoolDeps;
  /** What an exchange needs of a pool that serves HTTP requests. */
  readonly contextOf: (runtime: HttpPoolRuntime) => ExchangeContext;
  readonly drainTimeoutMs: () => number;
}

/** A pool a reload removed, finishing what it serves. */
interface Retiring {
  /** Ends the wait at once (shutdown): what is still open closes now. */
  finish(): void;
  readonly done: Promise<void>;
}

/** A retired pool's WebSockets get this long to close after their 1001. */
const CLOSE_GRACE_MS = 2000;

/** The pools that serve HTTP requests: all but a `[websocket]` that has an `[http]` beside it. */
function requestPools(config: Config): Map<string, PoolConfig> {
  const pools = new Map(poolsByName(config));
  if (config.http) pools.delete('websocket');
  return pools;
}

/**
 * Every pool as it runs, by name, kept in line with the configuration: an HTTP runtime (workers,
 * health, line) for each pool that serves requests, and a WebSocket runtime for each pool, which
 * follows the health of the pool's HTTP runtime when there is one. A reload adds, changes and
 * removes pools without touching the others; a removed pool finishes its requests and keeps its
 * WebSockets for up to drain_timeout, like a removed server.
 */
export class PoolRuntimes {
  private readonly requests = new Map<string, HttpPoolRuntime>();
  private readonly contexts = new Map<string, ExchangeContext>();
  private readonly upgrades = new Map<string, WsPoolRuntime>();
  private readonly retiring = new Set<Retiring>();
  private config: Config;
  private running = false;

  constructor(
    config: Config,
    private readonly deps: PoolRuntimesDeps,
  ) {
    this.config = config;
    this.reconcile(config, []);
  }

  /** The pool of HTTP requests no route takes: `[http]`, else `[websocket]`. */
  get defaultForRequests(): string | undefined {
    return this.config.http ? 'http' : this.config.websocket ? 'websocket' : undefined;
  }

  /** The pool of upgrades no route takes: `[websocket]`, else `[http]`. */
  get defaultForUpgrades(): string | undefined {
    return this.config.websocket ? 'websocket' : this.config.http ? 'http' : undefined;
  }

  context(pool: string): ExchangeContext | undefined {
    return this.contexts.get(pool);
  }

  wsProxy(pool: string): WsProxy | undefined {
    return this.upgrades.get(pool)?.proxy;
  }

  /** A reload's pools: new ones created (and started when serving), removed ones retired. */
  apply(next: Config, commands: readonly ServerCommand[]): void {
    this.config = next;
    this.reconcile(next, commands);
  }

  private reconcile(config: Config, commands: readonly ServerCommand[]): void {
    const commandsOf = (pool: string) => commands.filter((command) => command.pool === pool);
    const kept: Array<HttpPoolRuntime | WsPoolRuntime> = [];
    const nextRequestPools = requestPools(config);
    for (const [name, runtime] of this.requests) {
      if (nextRequestPools.has(name)) continue;
      this.requests.delete(name);
      this.contexts.delete(name);
      this.retire(runtime, () => runtime.release());
    }
    for (const [name, pool] of nextRequestPools) {
      const runtime = this.requests.get(name);
      if (runtime) {
        runtime.apply(pool, commandsOf(name));
        kept.push(runtime);
        continue;
      }
      const created = new HttpPoolRuntime(pool, this.deps.http);
      this.requests.set(name, created);
      this.contexts.set(name, this.deps.contextOf(created));
      if (this.running) created.startChecks();
    }
    const nextPools = poolsByName(config);
    for (const [name, runtime] of this.upgrades) {
      // A pool that starts or stops serving HTTP changes whose health its upgrades follow.
      if (nextPools.has(name) && runtime.leader === this.requests.get(name)) continue;
      this.upgrades.delete(name);
      this.retire(runtime, () => runtime.release(CLOSE_GRACE_MS));
    }
    for (const [name, pool] of nextPools) {
      const runtime = this.upgrades.get(name);
      if (runtime) {
        runtime.apply(pool, commandsOf(name));
        kept.push(runtime);
        continue;
      }
      const created = new WsPoolRuntime(pool, this.deps.ws, this.requests.get(name));
      this.upgrades.set(name, created);
      if (this.running) created.start();
    }
    for (const runtime of kept) {
      // A server removed and written again later starts afresh: not drained, its own weight.
      for (const command of commandsOf(runtime.pool.name)) {
        if (command.kind !== 'remove') continue;
        runtime.group.setDrained(command.server.name, false);
        runtime.group.setWeight(command.server.name, undefined);
      }
      runtime.reconfigureGroup();
    }
  }

  /** Waits until nothing is open on the pool or drain_timeout passed, then releases it. */
  private retire(runtime: { readonly load: number }, release: () => Promise<void>): void {
    let finish = (): void => undefined;
    const waited = new Promise<void>((resolve) => {
      const deadline = Date.now() + this.deps.drainTimeoutMs();
      const timer = setInterval(() => {
        if (runtime.load === 0 || Date.now() >= deadline) finish();
      }, 50);
      finish = () => {
        clearInterval(timer);
        resolve();
      };
    });
    const retiring: Retiring = {
      finish: () => finish(),
      done: waited.then(release).finally(() => this.retiring.delete(retiring)),
    };
    this.retiring.add(retiring);
  }

  /** Health checks on, and every backend's workers connecting. */
  async start(): Promise<void> {
    this.running = true;
    const connected = Promise.all([...this.requests.values()].map((runtime) => runtime.start()));
    for (const runtime of this.upgrades.values()) runtime.start();
    await connected;
  }

  /** Every open WebSocket, also of retired pools, closes with 1001 within `withinMs`. */
  async closeWebSockets(withinMs: number): Promise<void> {
    for (const retiring of this.retiring) retiring.finish();
    await Promise.all(
      [...this.upgrades.values()].map((runtime) => runtime.proxy.closeAll(withinMs)),
    );
  }

  async release(): Promise<void> {
    for (const retiring of this.retiring) retiring.finish();
    await Promise.all([
      ...[...this.retiring].map((retiring) => retiring.done),
      ...[...this.requests.values()].map((runtime) => runtime.release()),
      ...[...this.upgrades.values()].map((runtime) => runtime.release()),
    ]);
  }

  /** The health groups of a pool: its HTTP runtime's and its upgrades'. */
  groups(pool: string): Array<BackendGroup<Member>> {
    const groups: Array<BackendGroup<Member>> = [];
    const requests = this.requests.get(pool);
    const upgrades = this.upgrades.get(pool);
    if (requests) groups.push(requests.group);
    if (upgrades) groups.push(upgrades.group);
    return groups;
  }

  /** Whether the pool lists the server (in its HTTP runtime, or its upgrades'). */
  hasServer(pool: string, server: string): boolean {
    return (
      this.requests.get(pool)?.workerPools.get(server) !== undefined ||
      this.upgrades.get(pool)?.backends.get(server) !== undefined
    );
  }

  /** Whether any pool has a server in rotation. */
  get anyInRotation(): boolean {
    for (const runtime of [...this.requests.values(), ...this.upgrades.values()]) {
      if (runtime.group.healthyCount > 0) return true;
    }
    return false;
  }

  /** Every pool's servers now, in configuration order. */
  live(): LivePool[] {
    return [...poolsByName(this.config).keys()].map((name) => {
      const requests = this.requests.get(name);
      const upgrades = this.upgrades.get(name);
      const health = requests?.group ?? upgrades?.group;
      return livePool({
        config: (requests ?? upgrades)?.pool as PoolConfig,
        snapshot: () => health?.snapshot,
        drained: (server: string) => health?.isDrained(server) === true,
        ...(requests ? { workers: (server: string) => requests.workerPools.get(server) } : {}),
        ...(upgrades
          ? { websockets: (server: string) => upgrades.backends.get(server)?.load ?? 0 }
          : {}),
      });
    });
  }
}
