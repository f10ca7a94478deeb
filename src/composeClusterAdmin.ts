import type { Worker } from 'node:cluster';
import { Subject, defer, finalize, merge, share, type Observable, type Subscription } from './rx';
import type { AggregatorRegistry as AggregatorRegistryType } from 'prom-client';
import type { WorkerFleet } from './adapters/clusterPrimary';
import { createAdminServer, type ReloadAnswer } from './adapters/adminServer';
import { DASHBOARD_HTML } from './adapters/dashboardPage';
import { packageVersion } from './adapters/packageInfo';
import { clusterReadiness, clusterStatus, type WorkerAnswer } from './cluster/clusterStatus';
import type { EventsNote, StatusAnswer } from './cluster/messages';
import { poolsByName, type Config } from './config';
import { routeMatchReport, routesReport } from './observability/routesReport';
import { RouteTable } from './routing/routeTable';
import type { ProxyEvent } from './events';
import type { ProxyStatus } from './observability/statusReport';
import { eventFeedFor } from './streams/eventFeed';
import type { ServerControl } from './proxy';

/** How often the primary asks its workers for their figures while the admin listener runs. */
const STATUS_POLL_MS = 250;

export interface ClusterAdminDeps {
  readonly fleet: WorkerFleet;
  /** The configuration the primary validated last. */
  readonly config: () => Config;
  readonly stopping: () => boolean;
  readonly reload: () => Promise<ReloadAnswer>;
  /** Server control the primary itself applies (weights enter its health snapshots). */
  readonly control: (pool: string, server: string, command: ServerControl) => void;
  readonly workers: number;
  /** The primary's own events: the health it computes, rejected reloads. */
  readonly events$: Observable<ProxyEvent>;
  readonly onError: (message: string) => void;
}

/** The pools of what no route takes: requests' first, upgrades' last. */
function defaultPools(config: Config): string[] {
  const requests = config.http ? 'http' : config.websocket ? 'websocket' : undefined;
  const upgrades = config.websocket ? 'websocket' : config.http ? 'http' : undefined;
  return [requests, upgrades].filter((pool): pool is string => pool !== undefined);
}

/**
 * The admin listener of a cluster, served by the primary: `/livez`, `/readyz` (ready while a
 * worker is), `/status` (a single process's document over every worker, each worker's figures
 * and the totals), `/metrics` summed over the workers by prom-client's cluster aggregator, server
 * control and `/reload` for every worker. The workers' figures and status are asked for every
 * 250 ms. `/events` carries the primary's events and, while someone reads it, every worker's
 * (each with its `worker` pid).
 */
export class ClusterAdmin {
  private readonly answers = new Map<Worker, WorkerAnswer>();
  private readonly asked = new Map<number, Worker>();
  private nextId = 1;
  private poll: NodeJS.Timeout | undefined;
  private readonly fromWorkers = new Subject<ProxyEvent>();
  /** The last reload the primary rejected: the workers never hear of it. */
  private rejectedReload: ProxyStatus['lastReload'] = null;
  private readonly rejections: Subscription;
  /** Someone reads `/events`: the workers send their events. */
  private feeding = false;
  /** The workers' events while subscribed: the first reader turns the workers' feed on, the last off. */
  private readonly workerEvents$: Observable<ProxyEvent>;
  private readonly server: ReturnType<typeof createAdminServer>;

  constructor(
    config: Config,
    private readonly deps: ClusterAdminDeps,
  ) {
    // Loaded with the admin listener only, as in a single process (docs/performance.md, Memory).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { AggregatorRegistry } = require('prom-client') as {
      AggregatorRegistry: typeof AggregatorRegistryType;
    };
    const aggregator = new AggregatorRegistry();
    this.workerEvents$ = defer(() => {
      this.setFeeding(true);
      return this.fromWorkers;
    }).pipe(
      finalize(() => this.setFeeding(false)),
      share(),
    );
    const events$ = merge(deps.events$, this.workerEvents$);
    this.rejections = deps.events$.subscribe((event) => {
      if (event.type !== 'config-rejected') return;
      const { trigger, problems } = event;
      const at = new Date().toISOString();
      this.rejectedReload = { at, result: 'rejected', trigger, problems };
    });
    const startedAt = Date.now();
    const version = packageVersion();
    const readiness = () =>
      clusterReadiness(
        this.current().map((answer) => answer.figures),
        deps.stopping(),
      );
    this.server = createAdminServer(config.admin, {
      readiness,
      status: () =>
        clusterStatus(this.current(), {
          version,
          configFile: deps.config().file,
          startedAt,
          now: Date.now(),
          workers: deps.workers,
          readiness: readiness(),
          rejectedReload: this.rejectedReload,
        }),
      metrics: {
        contentType: aggregator.contentType,
        scrape: () => aggregator.clusterMetrics(),
      },
      feed: (query) => eventFeedFor(events$, query),
      dashboard: DASHBOARD_HTML,
      reload: deps.reload,
      control: (pool, server, command) => {
        const servers = poolsByName(deps.config()).get(pool)?.servers;
        if (!servers) return 'unknown pool';
        if (!servers.some((candidate) => candidate.name === server)) return 'unknown server';
        deps.control(pool, server, command);
        deps.fleet.broadcast({ type: 'rxproxy:control', pool, server, command });
        return 'ok';
      },
      routing: {
        list: () => routesReport(deps.config().routes, defaultPools(deps.config())),
        match: (host, path) =>
          routeMatchReport(
            new RouteTable(deps.config().routes),
            host,
            path,
            defaultPools(deps.config()),
          ),
      },
      onError: deps.onError,
    });
  }

  /** The last answers of the workers alive now, in the order they were forked. */
  private current(): WorkerAnswer[] {
    return this.deps.fleet.workers.flatMap((worker) => {
      const answer = this.answers.get(worker);
      return answer ? [answer] : [];
    });
  }

  private askAll(): void {
    this.asked.clear();
    for (const worker of this.deps.fleet.workers) {
      const id = this.nextId++;
      this.asked.set(id, worker);
      this.deps.fleet.send(worker, { type: 'rxproxy:status', id });
    }
  }

  /** A worker's answer to a status ask. */
  received(worker: Worker, answer: StatusAnswer): void {
    if (this.asked.get(answer.id) !== worker) return;
    this.asked.delete(answer.id);
    this.answers.set(worker, { figures: answer.figures, status: answer.status, at: Date.now() });
  }

  forget(worker: Worker): void {
    this.answers.delete(worker);
  }

  private setFeeding(on: boolean): void {
    this.feeding = on;
    this.deps.fleet.broadcast({ type: 'rxproxy:feed', on });
  }

  /** A worker that starts while someone reads `/events` sends its events too. */
  started(worker: Worker): void {
    if (this.feeding) this.deps.fleet.send(worker, { type: 'rxproxy:feed', on: true });
  }

  /** A batch of a worker's events, each marked with the worker's pid as its log lines are. */
  receivedEvents(note: EventsNote): void {
    for (const event of note.events) {
      const marked: ProxyEvent & { readonly worker: number } = { ...event, worker: note.pid };
      this.fromWorkers.next(marked);
    }
  }

  async listen(): Promise<void> {
    await this.server.listen();
    this.poll = setInterval(() => this.askAll(), STATUS_POLL_MS);
  }

  get address() {
    return this.server.address;
  }

  async close(): Promise<void> {
    clearInterval(this.poll);
    this.rejections.unsubscribe();
    await this.server.close();
  }
}
