import cluster from 'node:cluster';
import {
  BehaviorSubject,
  EMPTY,
  Subject,
  bufferTime,
  concatMap,
  distinctUntilChanged,
  filter,
  firstValueFrom,
  switchMap,
  Observable,
  type Subscription,
} from './rx';
import { WorkerFleet, type FleetNote } from './adapters/clusterPrimary';
import {
  answerPrimary,
  feedOrders,
  ipcRemoteHealth,
  metricsOrders,
  processChannel,
  reloadOrders,
  type PrimaryChannel,
} from './adapters/clusterWorker';
import { writeLogRecords, type Logger } from './adapters/logger';
import { fromSignals } from './adapters/processSignals';
import type { RemoteHealth } from './backendGroup';
import { isPrimaryHealthEvent, type ToWorker } from './cluster/messages';
import { perProcessConfig } from './cluster/perProcess';
import { cliReloadTriggers, readForReload, type ReadDigest } from './composeReloads';
import { describeChanges, formatProblem, reconcile, type Config } from './config';
import type { ReloadAnswer } from './adapters/adminServer';
import type * as TrafficCountersModule from './composeTrafficCounters';
import type { LoadedConfig, Proxy } from './proxy';
import type { AggregatorRegistry as AggregatorRegistryType } from 'prom-client';
import { ClusterAdmin } from './composeClusterAdmin';
import { packageVersion } from './adapters/packageInfo';
import { statusReport } from './observability/statusReport';
import { TrafficStats } from './observability/trafficStats';
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
   * Answers the primary's status asks and control orders, sends its events while the primary's
   * `/events` is read, and counts its metrics while the primary's admin listener is on.
   */
  attach(proxy: Proxy): Subscription;
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
    logs: (event) => !isPrimaryHealthEvent(event),
    share,
    shareLoaded: (loaded) => (loaded.ok ? { ...loaded, config: share(loaded.config) } : loaded),
    attach: (proxy) => {
      const counting: WorkerCounting = { stats: undefined };
      const startedAt = Date.now();
      const version = packageVersion();
      const attached = answerPrimary(channel, {
        live: proxy.live,
        control: (pool, server, command) => proxy.control(pool, server, command),
        status: () =>
          statusReport(proxy.live, counting.stats ?? new TrafficStats([]), {
            version,
            configFile: proxy.config.file,
            startedAt,
            now: Date.now(),
          }),
      });
      attached.add(forwardEvents(channel, proxy.events$));
      attached.add(countForPrimary(channel, proxy, counting));
      return attached;
    },
    close: () => cluster.worker?.disconnect(),
  };
}

/** How long a worker gathers its events before sending them to the primary's `/events`. */
const FEED_BATCH_MS = 50;

/**
 * While someone reads the primary's `/events`, this worker's events go there in batches (the
 * health the primary computes excepted: it feeds that itself); otherwise nothing is sent.
 */
function forwardEvents(channel: PrimaryChannel, events$: Observable<ProxyEvent>): Subscription {
  return feedOrders(channel)
    .pipe(
      distinctUntilChanged(),
      switchMap((on) =>
        on
          ? events$.pipe(
              filter((event) => !isPrimaryHealthEvent(event)),
              bufferTime(FEED_BATCH_MS),
              filter((events) => events.length > 0),
            )
          : EMPTY,
      ),
    )
    .subscribe((events) => channel.send({ type: 'rxproxy:events', pid: process.pid, events }));
}

/** What a worker counts of its traffic for the primary's admin listener, while it is on. */
interface WorkerCounting {
  stats: TrafficStats | undefined;
}

/**
 * This worker's metrics and status counters, as a single process counts them, while the
 * primary's admin listener is on: the metrics answered to the primary's aggregator (prom-client's
 * cluster module answers it once an AggregatorRegistry exists in the worker), the counters in
 * its status answers. Counting starts afresh when the listener comes back or its buckets change,
 * as a single process's does when a reload replaces its admin listener.
 */
function countForPrimary(
  channel: PrimaryChannel,
  proxy: Proxy,
  counting: WorkerCounting,
): Subscription {
  return metricsOrders(channel)
    .pipe(
      distinctUntilChanged(sameBuckets),
      switchMap((buckets) => (buckets ? workerCounters(proxy, buckets, counting) : EMPTY)),
    )
    .subscribe();
}

function sameBuckets(a: readonly number[] | undefined, b: readonly number[] | undefined): boolean {
  return a === b || (a !== undefined && b !== undefined && a.join() === b.join());
}

function workerCounters(
  proxy: Proxy,
  buckets: readonly number[],
  counting: WorkerCounting,
): Observable<never> {
  return new Observable<never>(() => {
    /* eslint-disable @typescript-eslint/no-require-imports -- loaded with the admin listener only */
    const { countTraffic } = require('./composeTrafficCounters') as typeof TrafficCountersModule;
    const { AggregatorRegistry } = require('prom-client') as {
      AggregatorRegistry: typeof AggregatorRegistryType;
    };
    /* eslint-enable @typescript-eslint/no-require-imports */
    const counters = countTraffic(proxy.events$, buckets, proxy.live);
    counting.stats = counters.stats;
    new AggregatorRegistry();
    AggregatorRegistry.setRegistries([counters.metrics.registry]);
    return () => {
      if (counting.stats === counters.stats) counting.stats = undefined;
      AggregatorRegistry.setRegistries([]);
      counters.close();
    };
  });
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
        case 'rxproxy:events':
          admin?.receivedEvents(message);
          break;
      }
    },
    onGone: (worker) => admin?.forget(worker),
    onStarted: (worker) => {
      admin?.started(worker);
      fleet.send(worker, metricsOrder(current));
    },
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
      events.next({ type: 'config-rejected', trigger, problems: loaded.problems });
      return loaded;
    }
    if (loaded.config.frontend.workers !== options.config.frontend.workers) {
      logger.warn({ event: 'cluster', workers: count }, 'workers: a change needs a restart');
    }
    const changes = reconcile(current, loaded.config);
    if (changes.admin.keys.length > 0) {
      const problem = await rebindAdmin(loaded.config);
      if (problem !== undefined) {
        events.next({ type: 'config-rejected', trigger, problems: [problem] });
        return { ok: false, problems: [problem] };
      }
      fleet.broadcast(metricsOrder(loaded.config));
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
  const newAdmin = (config: Config) =>
    config.admin.port === undefined
      ? undefined
      : new ClusterAdmin(config, {
          fleet,
          config: () => current,
          stopping: () => stopping,
          reload: () => oneAtATime('admin'),
          control: (pool, server, command) => health.control(pool, server, command),
          events$: events,
          workers: count,
          onError: (message) => logger.warn({ event: 'internal-error', source: 'admin' }, message),
        });
  let admin = newAdmin(options.config);
  /** Workers count metrics while the admin listener, which aggregates them, is on. */
  const metricsOrder = (config: Config): ToWorker => ({
    type: 'rxproxy:metrics',
    buckets: config.admin.port === undefined ? undefined : config.admin.metricsBuckets,
  });
  /**
   * A reload that changes `[admin]` binds the new listener before the workers hear of it (on the
   * same port the old one closes first); a listener that cannot bind rejects the reload.
   */
  const rebindAdmin = async (next: Config): Promise<string | undefined> => {
    const nextAdmin = newAdmin(next);
    if (nextAdmin && admin && next.admin.port === admin.address?.port) await admin.close();
    try {
      await nextAdmin?.listen();
    } catch (error) {
      await nextAdmin?.close();
      const message = `cannot listen: ${(error as Error).message}`;
      return formatProblem({ file: next.file, section: 'admin', key: 'port', message });
    }
    const old = admin;
    admin = nextAdmin;
    await old?.close();
    return undefined;
  };
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
