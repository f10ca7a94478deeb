import type { WorkerFigures } from './messages';

export interface ClusterStatusMeta {
  readonly version: string;
  readonly configFile: string;
  readonly startedAt: number;
  readonly now: number;
  /** The number of workers the primary keeps running. */
  readonly workers: number;
  readonly readiness: { readonly ready: boolean; readonly reason: string };
}

/** A server's figures summed over the workers. */
export interface ServerTotals {
  readonly pool: string;
  readonly name: string;
  readonly inFlight: number;
  readonly openWebSockets: number;
  readonly queueDepth: number;
  /** Upstream connections open, over every worker (each keeps its own, up to max_workers). */
  readonly connections: number;
  /** Workers that have it in rotation. */
  readonly inRotationIn: number;
}

/**
 * The primary's `/status`: each worker as it sees itself (pid, requests in flight, readiness,
 * pools and servers), and the totals over all workers.
 */
export function clusterStatus(figures: readonly WorkerFigures[], meta: ClusterStatusMeta) {
  const servers = new Map<string, ServerTotals>();
  for (const worker of figures) {
    for (const pool of worker.pools) {
      for (const server of pool.servers) {
        const key = JSON.stringify([pool.name, server.name]);
        const before = servers.get(key);
        servers.set(key, {
          pool: pool.name,
          name: server.name,
          inFlight: (before?.inFlight ?? 0) + server.inFlight,
          openWebSockets: (before?.openWebSockets ?? 0) + server.openWebSockets,
          queueDepth: (before?.queueDepth ?? 0) + server.queueDepth,
          connections:
            (before?.connections ?? 0) +
            (server.workers ? server.workers.busy + server.workers.idle : 0),
          inRotationIn: (before?.inRotationIn ?? 0) + (server.inRotation ? 1 : 0),
        });
      }
    }
  }
  return {
    version: meta.version,
    startedAt: new Date(meta.startedAt).toISOString(),
    uptimeSeconds: Math.round((meta.now - meta.startedAt) / 100) / 10,
    configFile: meta.configFile,
    ready: meta.readiness.ready,
    readiness: meta.readiness.reason,
    workers: meta.workers,
    totals: {
      requestsInFlight: figures.reduce((sum, worker) => sum + worker.requestsInFlight, 0),
      servers: [...servers.values()],
    },
    processes: figures,
  };
}

/** Ready while not stopping and at least one worker is ready to serve. */
export function clusterReadiness(
  figures: readonly WorkerFigures[],
  stopping: boolean,
): { ready: boolean; reason: string } {
  if (stopping) return { ready: false, reason: 'shutting down' };
  if (figures.some((worker) => worker.ready)) return { ready: true, reason: 'ready' };
  return { ready: false, reason: figures[0]?.reason ?? 'no worker has started' };
}
