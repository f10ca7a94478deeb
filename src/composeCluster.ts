import cluster from 'node:cluster';
import {
  BehaviorSubject,
  Subject,
  concatMap,
  firstValueFrom,
  type Observable,
  type Subscription,
} from 'rxjs';
import { WorkerFleet, type FleetNote } from './adapters/clusterPrimary';
import {
  answerPrimary,
  ipcRemoteHealth,
  processChannel,
  reloadOrders,
} from './adapters/clusterWorker';
import { writeLogRecords, type Logger } from './adapters/logger';
import { fromSignals } from './adapters/processSignals';
import type { RemoteHealth } from './backendGroup';
import { perProcessConfig } from './cluster/perProcess';
import { cliReloadTriggers, readForReload, type ReadDigest } from './composeReloads';
import { describeChanges, reconcile, type AdminConfig, type Config } from './config';
import type { ReloadAnswer } from './adapters/adminServer';
import type * as MetricsModule from './observability/metrics';
import type { LoadedConfig, Proxy } from './proxy';
import type { AggregatorRegistry as AggregatorRegistryType } from 'prom-client';
import { ClusterAdmin } from './composeClusterAdmin';
import { ClusterHealth } from './composeClusterHealth';
import type { ProxyEvent } from './events';
import { logRecords } from './streams/logRecords';

/** Tells a worker how many processes share the front door. */
export const WORKER_COUNT_ENV = 'RXPROXY_CLUSTER_WORKERS';

/** What a cluster worker does differently from a single process. */
export interface WorkerRole {
  /** The number of workers, for the limits shared among them. */
  readonly count: number;
  readonly cluster: { readonly health: RemoteHealth };
  /** The primary's reload orders (it validated the file first): the worker reads it again. */
  readonly reloads$: Observable<string>;
  /** Whether the worker logs an event: the primary logs the health it computes, once. */
  logs(event: ProxyEvent): boolean;
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
  const share = (config: Config) => perProcessConfig(config, count);
  return {
    count,
    cluster: { health: ipcRemoteHealth(channel) },
    reloads$: reloadOrders(channel),
    logs: (event) => event.type !== 'health' && event.type !== 'health-check',
    share,
    shareLoaded: (loaded) => (loaded.ok ? { ...loaded, config: share(loaded.config) } : loaded),
    attach: (proxy, admin) => {
      const attached = answerPrimary(channel, proxy, admin);
      if (admin.port !== undefined) attached.add(workerMetrics(proxy, admin));
      return attached;
    },
    close: () => cluster.worker?.disconnect(),
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
 * The primary of `count` workers: it forks them, owns the control plane (every pool's health:
 * probes, the workers' traffic outcomes, ejections and weights; reloads and signals) and serves
 * no traffic itself. Resolves with the exit code once every worker has gone.
 */
export async function runPrimary(options: PrimaryOptions): Promise<number> {
  const { logger, count, env, digest } = options;
  const file = options.config.file;
  let stopping = false;
  const events = new Subject<ProxyEvent>();
  const logging = writeLogRecords(
    logRecords(events, (level) => logger.isLevelEnabled(level)),
    logger,
  );
  const fleet: WorkerFleet = new WorkerFleet(count, {
    env: { [WORKER_COUNT_ENV]: String(count) },
    onMessage: (worker, message) => {
      switch (message.type) {
        case 'rxproxy:health-watch':
          health.watch(worker, message.pool);
          break;
        case 'rxproxy:outcome':
          health.outcome(message.pool, message.outcome);
          break;
        case 'rxproxy:status-result':
          admin?.received(worker, message);
          break;
      }
    },
    onGone: (worker) => admin?.forget(worker),
    note: (note) => logNote(logger, note),
  });
  const health = new ClusterHealth(options.config, {
    send: (worker, message) => fleet.send(worker, message),
    broadcast: (message) => fleet.broadcast(message),
    emit: (event) => events.next(event),
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
    health.apply(current);
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
          control: (pool, server, command) => health.control(pool, server, command),
          workers: count,
          onError: (message) => logger.warn({ event: 'internal-error', source: 'admin' }, message),
        });
  const closeHealth = async () => {
    await health.close();
    events.complete();
    logging.unsubscribe();
  };
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
    await closeHealth();
    throw Object.assign(error as Error, { listener: 'admin' });
  }
  if (!(await fleet.start())) {
    reloads.unsubscribe();
    await admin?.close();
    await closeHealth();
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
  await closeHealth();
  forced.unsubscribe();
  return 0;
}
