import type { Worker } from 'node:cluster';
import { createHealthProber, type HealthProber } from './adapters/healthProbe';
import { SharedProbes } from './adapters/sharedProbes';
import { BackendGroup, type Member } from './backendGroup';
import type { ToWorker } from './cluster/messages';
import { toWire } from './cluster/snapshotWire';
import { poolsByName, type Config, type PoolConfig } from './config';
import type { ProxyEvent } from './events';
import type { TrafficOutcome } from './operators/outlierEjection';
import type { ServerControl } from './proxy';

export interface ClusterHealthDeps {
  /** Sends to one worker. */
  readonly send: (worker: Worker, message: ToWorker) => void;
  /** Sends to every worker. */
  readonly broadcast: (message: ToWorker) => void;
  /** The primary's own events (`health`, `health-check`), for its log and feed. */
  readonly emit: (event: ProxyEvent) => void;
}

/** A pool's servers as the primary's health pipeline names them: it serves no traffic itself. */
function serversOf(pool: PoolConfig): Member[] {
  return pool.servers.map((server) => ({ name: server.name, load: 0 }));
}

/** One pool's health in the primary: its prober and the healthy-set pipeline over it. */
class PoolHealth {
  private pool: PoolConfig;
  readonly group: BackendGroup<Member>;
  private readonly prober: HealthProber;

  constructor(pool: PoolConfig, probes: SharedProbes, deps: ClusterHealthDeps) {
    this.pool = pool;
    this.prober = createHealthProber(() => this.pool, probes);
    const name = pool.name;
    this.group = new BackendGroup(pool, serversOf(pool), {
      probe: this.prober.probe,
      emit: (event) => {
        deps.emit(event);
        if (event.type !== 'health-check') return;
        const { backend, up, healthy, latencyMs, reason } = event;
        const result = {
          backend,
          up,
          healthy,
          latencyMs,
          ...(reason === undefined ? {} : { reason }),
        };
        deps.broadcast({ type: 'rxproxy:health-check', pool: name, result });
      },
      onSnapshot: () => {
        const snapshot = this.group.snapshot;
        if (snapshot)
          deps.broadcast({ type: 'rxproxy:snapshot', pool: name, snapshot: toWire(snapshot) });
      },
    });
    this.group.start();
  }

  reconfigure(pool: PoolConfig): void {
    this.pool = pool;
    this.group.reconfigure(pool, serversOf(pool));
  }

  stop(): Promise<void> {
    this.group.stop();
    return this.prober.close();
  }
}

/**
 * The cluster's control plane for health, in the primary: one healthy-set pipeline per pool
 * (the same BackendGroup as a single process runs), fed by the primary's probes, one per server
 * and interval, and by the traffic outcomes every worker reports; it computes ejections and
 * dynamic weights, and sends each snapshot and probe result to every worker, whose data plane
 * balances over the snapshot as it arrives.
 */
export class ClusterHealth {
  private readonly probes = new SharedProbes();
  private readonly pools = new Map<string, PoolHealth>();

  constructor(
    config: Config,
    private readonly deps: ClusterHealthDeps,
  ) {
    this.apply(config);
  }

  /** A validated configuration: pools added start, removed ones stop, the others reconfigure. */
  apply(config: Config): void {
    const next = poolsByName(config);
    for (const [name, health] of this.pools) {
      if (next.has(name)) continue;
      this.pools.delete(name);
      void health.stop();
    }
    for (const [name, pool] of next) {
      const health = this.pools.get(name);
      if (health) health.reconfigure(pool);
      else this.pools.set(name, new PoolHealth(pool, this.probes, this.deps));
    }
  }

  /** A worker (new, or reloaded) asks for a pool's latest snapshot. */
  watch(worker: Worker, pool: string): void {
    const snapshot = this.pools.get(pool)?.group.snapshot;
    if (snapshot)
      this.deps.send(worker, { type: 'rxproxy:snapshot', pool, snapshot: toWire(snapshot) });
  }

  /** An outcome of a worker's traffic, for the pool's passive health checks. */
  outcome(pool: string, outcome: TrafficOutcome): void {
    this.pools.get(pool)?.group.reportOutcome(outcome.backend, outcome.ok, outcome.failure);
  }

  /** A weight set through the admin API enters the snapshots; drains are the workers' own. */
  control(pool: string, server: string, command: ServerControl): void {
    if (command.action === 'weight') this.pools.get(pool)?.group.setWeight(server, command.weight);
  }

  async close(): Promise<void> {
    const stopping = [...this.pools.values()].map((health) => health.stop());
    this.pools.clear();
    await Promise.all(stopping);
  }
}
