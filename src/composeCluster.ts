import cluster from 'node:cluster';
import {
  BehaviorSubject,
  concatMap,
  firstValueFrom,
  type Observable,
  type Subscription,
} from 'rxjs';
import { PrimaryProbes, WorkerFleet, type FleetNote } from './adapters/clusterPrimary';
import {
  answerStatusAsks,
  IpcProbes,
  ipcOutcomeRelay,
  processChannel,
  reloadOrders,
} from './adapters/clusterWorker';
import type { Logger } from './adapters/logger';
import { fromSignals } from './adapters/processSignals';
import type { OutcomeRelay } from './backendGroup';
import type { WorkerFigures } from './cluster/messages';
import { perProcessConfig } from './cluster/perProcess';
import { cliReloadTriggers, readForReload, type ReadDigest } from './composeReloads';
import type { Config } from './config';
import type { ProbeSharing } from './adapters/sharedProbes';
import type { LiveState } from './observability/liveState';
import type { LoadedConfig } from './proxy';

/** Tells a worker how many processes share the front door. */
export const WORKER_COUNT_ENV = 'RXPROXY_CLUSTER_WORKERS';

/** What a cluster worker does differently from a single process. */
export interface WorkerRole {
  /** The number of workers, for the limits shared among them. */
  readonly count: number;
  readonly cluster: { readonly probes: ProbeSharing; readonly relay: OutcomeRelay };
  /** The primary's reload orders (it validated the file first): the worker reads it again. */
  readonly reloads$: Observable<string>;
  /** A worker's share of a configuration. */
  share(config: Config): Config;
  shareLoaded(loaded: LoadedConfig): LoadedConfig;
  answerStatus(live: LiveState): Subscription;
  /** Removes the worker's IPC listeners and lets the process exit. */
  close(): void;
}

/** This process's role when node:cluster forked it, else undefined. */
export function workerRole(env: NodeJS.ProcessEnv): WorkerRole | undefined {
  if (!cluster.isWorker) return undefined;
  const count = Math.max(1, Number(env[WORKER_COUNT_ENV] ?? '1') || 1);
  const channel = processChannel();
  const probes = new IpcProbes(channel);
  const share = (config: Config) => perProcessConfig(config, count);
  return {
    count,
    cluster: { probes, relay: ipcOutcomeRelay(channel) },
    reloads$: reloadOrders(channel),
    share,
    shareLoaded: (loaded) => (loaded.ok ? { ...loaded, config: share(loaded.config) } : loaded),
    answerStatus: (live) => answerStatusAsks(channel, live),
    close: () => {
      probes.close();
      cluster.worker?.disconnect();
    },
  };
}

export interface PrimaryOptions {
  readonly config: Config;
  readonly count: number;
  readonly logger: Logger;
  readonly env: NodeJS.ProcessEnv;
  readonly digest?: ReadDigest;
}

function logNote(logger: Logger, note: FleetNote): void {
  if (note.action === 'started')
    logger.info({ event: 'cluster-worker', ...note }, 'worker started');
  else logger.warn({ event: 'cluster-worker', ...note }, 'worker died; it is replaced');
}

/**
 * The primary of `count` workers: it forks them, owns the control plane (the health probes of
 * every worker, the relay of traffic outcomes between them, reloads and signals) and serves no
 * traffic itself. Resolves with the exit code once every worker has gone.
 */
export async function runPrimary(options: PrimaryOptions): Promise<number> {
  const { logger, count, env, digest } = options;
  const file = options.config.file;
  const probes = new PrimaryProbes();
  const statusWaits = new Map<number, (figures: WorkerFigures) => void>();
  const fleet: WorkerFleet = new WorkerFleet(count, {
    env: { [WORKER_COUNT_ENV]: String(count) },
    onMessage: (worker, message) => {
      switch (message.type) {
        case 'rxproxy:probe':
          probes.ask(worker, message, (reply) => fleet.send(worker, reply));
          break;
        case 'rxproxy:probe-cancel':
          probes.cancel(worker, message.id);
          break;
        case 'rxproxy:outcome':
          fleet.broadcast(message, worker);
          break;
        case 'rxproxy:status-result':
          statusWaits.get(message.id)?.(message.figures);
          break;
      }
    },
    onGone: (worker) => probes.forget(worker),
    note: (note) => logNote(logger, note),
  });
  const applied$ = new BehaviorSubject<Config>(options.config);
  /** The file is validated once here; only a valid one reaches the workers. */
  const reloadWorkers = async (trigger: string): Promise<void> => {
    const loaded = await readForReload(file, env, digest);
    if (!loaded.ok) {
      logger.warn(
        { event: 'config-rejected', trigger, problems: loaded.problems },
        'configuration rejected, the running one stays',
      );
      return;
    }
    if (loaded.config.frontend.workers !== options.config.frontend.workers) {
      logger.warn({ event: 'cluster', workers: count }, 'workers: a change needs a restart');
    }
    applied$.next(loaded.config);
    fleet.broadcast({ type: 'rxproxy:reload', trigger });
  };
  let markStarted: () => void = () => undefined;
  const started = new Promise<void>((resolve) => (markStarted = resolve));
  const reloads = cliReloadTriggers(file, applied$, true, digest)
    .pipe(
      concatMap(async (trigger) => {
        await started;
        await reloadWorkers(trigger);
      }),
    )
    .subscribe();
  logger.info({ event: 'cluster', workers: count }, `starting ${count} workers`);
  if (!(await fleet.start())) {
    reloads.unsubscribe();
    await probes.close();
    return 1;
  }
  markStarted();
  const signal = await firstValueFrom(fromSignals());
  reloads.unsubscribe();
  logger.info({ signal }, 'shutting down');
  const forced = fromSignals().subscribe((again) => {
    logger.warn({ signal: again }, 'second signal: exiting without waiting');
    fleet.kill();
    logger.flush();
    process.exit(1);
  });
  await fleet.stop();
  await probes.close();
  forced.unsubscribe();
  return 0;
}
