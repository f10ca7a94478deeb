import type { LivePool, LiveServer, LiveState } from '../../src/observability/liveState';

/** A server in rotation with weight 1, no load; `changes` on top. */
export function liveServer(
  pool: string,
  name: string,
  changes: Partial<LiveServer> = {},
): LiveServer {
  return {
    pool,
    name,
    address: `127.0.0.1:${8000 + name.length}`,
    staticWeight: 1,
    inRotation: true,
    effectiveWeight: 1,
    down: undefined,
    workers: { busy: 0, idle: 0, connecting: 0 },
    queueDepth: 0,
    inFlight: 0,
    openWebSockets: 0,
    ...changes,
  };
}

/** A LiveState whose pools, routes and in-flight count a test sets as it goes. */
export class FakeLiveState implements LiveState {
  inFlight = 0;

  constructor(
    public servers: LiveServer[],
    /** The configured route names, in file order. */
    public routeNames: string[] = [],
  ) {}

  routes(): readonly string[] {
    return this.routeNames;
  }

  pools(): readonly LivePool[] {
    const names = [...new Set(this.servers.map((server) => server.pool))];
    return names.map((name) => ({
      name,
      algorithm: 'round-robin',
      healthChecks: true,
      servers: this.servers.filter((server) => server.pool === name),
    }));
  }

  requestsInFlight(): number {
    return this.inFlight;
  }

  readiness() {
    return { ready: true, reason: 'ready' };
  }

  /** Replaces one server's live state. */
  set(pool: string, name: string, changes: Partial<LiveServer>): void {
    this.servers = this.servers.map((server) =>
      server.pool === pool && server.name === name ? { ...server, ...changes } : server,
    );
  }
}
