import type { PoolConfig } from '../config';
import type { HealthySnapshot } from '../streams/healthySet';
import type { LivePool, LiveServer, WorkerCounts } from './liveState';

/** A backend's worker pool as the admin surface reads it. */
export interface WorkerView {
  readonly workerCounts: WorkerCounts;
  readonly queued: number;
  readonly busy: number;
}

/** What one pool's live state is read from. */
export interface PoolView {
  readonly config: PoolConfig;
  /** The healthy-set snapshot in effect (undefined before start). */
  readonly snapshot: () => HealthySnapshot | undefined;
  /** Whether the server was drained through the admin API. */
  readonly drained?: (server: string) => boolean;
  /** The server's worker pool, for pools that serve HTTP. */
  readonly workers?: (server: string) => WorkerView | undefined;
  /** Open WebSockets on the server, for pools that serve upgrades. */
  readonly websockets?: (server: string) => number;
}

const NOT_STARTED = 'not started';
const DRAINED = 'drained through the admin API';

/** One pool's servers now: rotation from the latest snapshot, load from the data plane. */
export function livePool(view: PoolView): LivePool {
  const { config } = view;
  const snapshot = view.snapshot();
  const servers = config.servers.map((server): LiveServer => {
    const workers = view.workers?.(server.name);
    const drained = view.drained?.(server.name) === true;
    const reason = drained ? DRAINED : snapshot ? snapshot.down.get(server.name) : NOT_STARTED;
    const cause = drained ? { cause: 'drain' as const } : snapshot?.causes?.get(server.name);
    return {
      pool: config.name,
      name: server.name,
      address: server.address,
      staticWeight: server.weight,
      inRotation: reason === undefined,
      effectiveWeight: reason === undefined ? (snapshot?.weights.get(server.name) ?? 0) : 0,
      down:
        reason === undefined
          ? undefined
          : {
              cause: cause?.cause ?? (snapshot ? 'hook' : 'health-check'),
              reason,
              ...(cause?.returnsAt === undefined ? {} : { returnsAt: cause.returnsAt }),
            },
      workers: workers?.workerCounts,
      queueDepth: workers?.queued ?? 0,
      inFlight: workers?.busy ?? 0,
      openWebSockets: view.websockets?.(server.name) ?? 0,
    };
  });
  return {
    name: config.name,
    algorithm: config.algorithm,
    healthChecks: config.enableHealthCheck,
    servers,
  };
}
