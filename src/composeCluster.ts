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
  answerPrimary,
  IpcProbes,
  ipcOutcomeRelay,
  processChannel,
  reloadOrders,
} from './adapters/clusterWorker';
import type { Logger } from './adapters/logger';
import { fromSignals } from './adapters/processSignals';
import type { OutcomeRelay } from './backendGroup';
import { perProcessConfig } from './cluster/perProcess';
import { cliReloadTriggers, readForReload, type ReadDigest } from './composeReloads';
import { describeChanges, reconcile, type AdminConfig, type Config } from './config';
import type { ReloadAnswer } from './adapters/adminServer';
import type { ProbeSharing } from './adapters/sharedProbes';
import type * as MetricsModule from './observability/metrics';
import type { LoadedConfig, Proxy } from './proxy';
import type { AggregatorRegistry as AggregatorRegistryType } from 'prom-client';
import { ClusterAdmin } from './composeClusterAdmin';

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
  /**
   * Answers the primary's status asks and control orders; with the admin listener on (served by
   * the primary), also counts this worker's metrics for the primary's aggregated `/metrics`.
   */
  attach(proxy: Proxy, admin: AdminConfig): Subscription;
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
    attach: (proxy, admin) => {
      const attached = answerPrimary(channel, proxy);
      if (admin.port !== undefined) attached.add(workerMetrics(proxy, admin));
      return attached;
    },
    close: () => {
      probes.close();
      cluster.worker?.disconnect();
    },
  };
}

/**
 * This worker's metrics, as a single process counts them, answered to the primary's aggregator
 * (prom-client's cluster module answers it once an AggregatorRegistry exists in the worker).
 */
function workerMetrics(proxy: Proxy, admin: AdminConfig): Subscription {
  /* eslint-disable @typescript-eslint/no-require-imports -- loaded with the admin listener only */
  const { createMetrics } = require('./observability/metrics') as typeof MetricsModule;
  const { AggregatorRegistry } = require('prom-client') as {
    AggregatorRegistry: typeof AggregatorRegistryType;
  };
  /* eslint-enable @typescript-eslint/no-require-imports */
  const metrics = createMetrics({ buckets: admin.metricsBuckets, live: proxy.live });
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([metrics.registry]);
  const counting = proxy.events$.subscribe(metrics.observe);
  counting.add(() => metrics.close());
  return counting;
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
  let stopping = false;
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
          admin?.received(worker, message);
          break;
      }
    },
    onGone: (worker) => {
      probes.forget(worker);
      admin?.forget(worker);
    },
    note: (note) => logNote(logger, note),
  });
  let current = options.config;
  const applied$ = new BehaviorSubject<Config>(current);
  /** The file is validated once here; only a valid one reaches the workers. */
  const reloadWorkers = async (trigger: string): Promise<ReloadAnswer> => {
    const loaded = await readForReload(file, env, digest);
    if (!loaded.ok) {
      logger.warn(
        { event: 'config-rejected', trigger, problems: loaded.problems },
        'configuration rejected, the running one stays',
      );
      return loaded;
    }
    if (loaded.config.frontend.workers !== options.config.frontend.workers) {
      logger.warn({ event: 'cluster', workers: count }, 'workers: a change needs a restart');
    }
    const changes = reconcile(current, loaded.config);
    if (changes.admin.keys.length > 0) {
      logger.warn({ event: 'cluster', workers: count }, '[admin]: a change needs a restart');
    }
    const summary = describeChanges(changes);
    current = loaded.config;
    if (env.LOG_LEVEL === undefined) logger.level = current.frontend.logLevel;
    applied$.next(current);
    fleet.broadcast({ type: 'rxproxy:reload', trigger });
    return { ok: true, summary };
  };
  let reloading: Promise<unknown> = Promise.resolve();
  /** One reload at a time, whatever asked for it. */
  const oneAtATime = (trigger: string): Promise<ReloadAnswer> => {
    const next = reloading.then(() => reloadWorkers(trigger));
    reloading = next.catch(() => undefined);
    return next;
  };
  const admin =
    options.config.admin.port === undefined
      ? undefined
      : new ClusterAdmin(options.config, {
          fleet,
          config: () => current,
          stopping: () => stopping,
          reload: () => oneAtATime('admin'),
          workers: count,
          onError: (message) => logger.warn({ event: 'internal-error', source: 'admin' }, message),
        });
  let markStarted: () => void = () => undefined;
  const started = new Promise<void>((resolve) => (markStarted = resolve));
  const reloads = cliReloadTriggers(file, applied$, true, digest)
    .pipe(
      concatMap(async (trigger) => {
        await started;
        await oneAtATime(trigger);
      }),
    )
    .subscribe();
  logger.info({ event: 'cluster', workers: count }, `starting ${count} workers`);
  try {
    // The admin listener first: probes answer (503) from the moment the workers listen.
    await admin?.listen();
  } catch (error) {
    reloads.unsubscribe();
    await probes.close();
    throw Object.assign(error as Error, { listener: 'admin' });
  }
  if (!(await fleet.start())) {
    reloads.unsubscribe();
    await admin?.close();
    await probes.close();
    return 1;
  }
  markStarted();
  const signal = await firstValueFrom(fromSignals());
  reloads.unsubscribe();
  stopping = true;
  logger.info({ signal }, 'shutting down');
  const forced = fromSignals().subscribe((again) => {
    logger.warn({ signal: again }, 'second signal: exiting without waiting');
    fleet.kill();
    logger.flush();
    process.exit(1);
  });
  await fleet.stop();
  await admin?.close();
  await probes.close();
  forced.unsubscribe();
  return 0;
}
