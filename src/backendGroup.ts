import {
  BehaviorSubject,
  EMPTY,
  Subject,
  asyncScheduler,
  catchError,
  distinctUntilChanged,
  map,
  merge,
  mergeMap,
  of,
  pairwise,
  share,
  shareReplay,
  startWith,
  switchMap,
  tap,
  type Observable,
  type OperatorFunction,
  type SchedulerLike,
  type Subscription,
} from './rx';
import { createPicker, type Candidate, type Picker, type RandomSource } from './balancing';
import { sameEndpoint, type PoolConfig } from './config';
import type { ProxyEvent } from './events';
import { healthTransitions } from './health/transitions';
import {
  outlierEjection,
  type EjectionInput,
  type TrafficOutcome,
} from './operators/outlierEjection';
import { activeHealth, type CheckedProbe, type Probe } from './streams/activeHealth';
import { healthySet, type BackendInfo, type HealthySnapshot } from './streams/healthySet';

/** What the group balances over: a backend's data-plane object (worker pool, ws backend). */
export interface Member {
  readonly name: string;
  /** Requests in flight or open WebSockets. */
  readonly load: number;
}

/** Most requests carry neither a hash key nor exclusions: one shared, empty pick request. */
const NO_CONTEXT = Object.freeze({});

interface MemberCandidate<M extends Member> extends Candidate {
  readonly member: M;
}

export interface BackendGroupDeps {
  /** Probes a backend; needed when the pool has active health checks. */
  readonly probe?: Probe;
  /** Another role of the same pool: follow its health instead of checking twice. */
  readonly leader?: BackendGroup<Member>;
  readonly emit: (event: ProxyEvent) => void;
  readonly random?: RandomSource;
  readonly scheduler?: SchedulerLike;
  /** Called after each new healthy-set snapshot took effect (backends may have come back). */
  readonly onSnapshot?: () => void;
  /** A user's hook over the snapshots; when it fails, the unhooked snapshots are used. */
  readonly mapSnapshots?: OperatorFunction<HealthySnapshot, HealthySnapshot>;
  /** The pool's health is computed elsewhere (a cluster worker's pools, by the primary). */
  readonly remote?: RemoteHealth;
}

/** What arrives of a pool whose health another process computes: snapshots and probe results. */
export type RemoteHealthNote =
  { readonly snapshot: HealthySnapshot } | { readonly probe: CheckedProbe };

/**
 * The health of pools computed in another process (a cluster's primary): each pool's healthy-set
 * snapshots and the probes behind them come from there, and this process's traffic outcomes go
 * there for its passive health checks.
 */
export interface RemoteHealth {
  /** The notes of `pool`: the latest snapshot first (once there is one), then every change. */
  watch(pool: string): Observable<RemoteHealthNote>;
  /** Passes an outcome of this process's traffic to `pool` on. */
  reportOutcome(pool: string, outcome: TrafficOutcome): void;
}

/** Settings whose change rebuilds the health pipeline (its state starts afresh). */
const HEALTH_SETTINGS = [
  'enableHealthCheck',
  'healthCheckIntervalMs',
  'healthCheckTimeoutMs',
  'healthCheckRise',
  'healthCheckFall',
  'passiveHealthCheck',
  'maxFails',
  'ejectTimeMs',
  'maxEjectionPercent',
  'dynamicWeights',
  'slowStartMs',
] as const satisfies readonly (keyof PoolConfig)[];

/**
 * One pool's backends as the data plane sees them: the healthy-set stream (active checks and
 * passive ejection) kept in a plain field, and the configured algorithm picking over it. The
 * backend list, the settings and the drained set change at runtime; backends that stay keep
 * their health.
 */
export class BackendGroup<M extends Member> {
  private readonly members = new Map<string, M>();
  private picker: Picker;
  private readonly outcomes = new Subject<TrafficOutcome>();
  private readonly backendList$: BehaviorSubject<readonly BackendInfo[]>;
  /** Each value rebuilds the health pipeline with the settings of the moment. */
  private readonly rebuilds = new BehaviorSubject<void>(undefined);
  /** Weights set at runtime, over the configured ones. */
  private readonly weightOverrides = new Map<string, number>();
  /** Backends out of rotation by command (a runtime drain, or removal from the config). */
  private readonly drained = new Set<string>();
  private inRotation: ReadonlySet<string> = new Set();
  /** Backends whose last reported outcome failed: only they need successes reported. */
  private readonly failing = new Set<string>();
  private candidates: readonly MemberCandidate<M>[] = [];
  private subscription: Subscription | undefined;
  private latest: HealthySnapshot | undefined;
  readonly snapshots$: Observable<HealthySnapshot>;

  constructor(
    private current: PoolConfig,
    members: readonly M[],
    private readonly deps: BackendGroupDeps,
  ) {
    for (const member of members) this.members.set(member.name, member);
    this.picker = this.newPicker();
    this.backendList$ = new BehaviorSubject<readonly BackendInfo[]>(this.backendInfos());
    this.snapshots$ = deps.leader
      ? deps.leader.snapshots$
      : this.rebuilds.pipe(
          switchMap(() => this.buildSnapshots()),
          shareReplay({ bufferSize: 1, refCount: true }),
        );
    this.candidates = current.servers.flatMap((server) => {
      const member = this.members.get(server.name);
      return member ? [{ name: server.name, weight: server.weight, member, load: 0 }] : [];
    });
  }

  get pool(): PoolConfig {
    return this.current;
  }

  private newPicker(): Picker {
    return createPicker(this.current.algorithm, {
      ...(this.deps.random ? { random: this.deps.random } : {}),
      hashBalanceFactor: this.current.hashBalanceFactor,
    });
  }

  private backendInfos(): BackendInfo[] {
    return this.current.servers.map((server) => ({
      name: server.name,
      weight: this.weightOverrides.get(server.name) ?? server.weight,
    }));
  }

  /** The pool's snapshots, computed here or elsewhere, through the user's hook if there is one. */
  private buildSnapshots(): Observable<HealthySnapshot> {
    const { deps } = this;
    const snapshots$ = deps.remote ? this.remoteSnapshots(deps.remote) : this.healthySnapshots();
    const hook = deps.mapSnapshots;
    if (!hook) return snapshots$;
    return snapshots$.pipe(
      hook,
      catchError((error: unknown) => {
        const message = error instanceof Error ? error.message : String(error);
        deps.emit({ type: 'internal-error', source: 'healthySet hook', message });
        return snapshots$;
      }),
    );
  }

  /** Snapshots computed by another process; its probe results are reported here as they come. */
  private remoteSnapshots(remote: RemoteHealth): Observable<HealthySnapshot> {
    return remote.watch(this.current.name).pipe(
      mergeMap((note) => {
        if ('snapshot' in note) return of(note.snapshot);
        this.reportProbe(note.probe);
        return EMPTY;
      }),
    );
  }

  /** The healthy-set stream of this pool over its changing backend list. */
  private healthySnapshots(): Observable<HealthySnapshot> {
    const { current: pool, deps } = this;
    const scheduler = deps.scheduler ?? asyncScheduler;
    const backends$ = this.backendList$.pipe(
      distinctUntilChanged(sameList),
      shareReplay({ bufferSize: 1, refCount: true }),
    );
    const names$ = backends$.pipe(map((list) => list.map((backend) => backend.name)));
    const probe = deps.probe;
    const activeChecks = pool.enableHealthCheck && probe !== undefined;
    const probes$ =
      activeChecks && probe
        ? activeHealth(
            names$,
            probe,
            {
              intervalMs: pool.healthCheckIntervalMs,
              timeoutMs: pool.healthCheckTimeoutMs,
              rise: pool.healthCheckRise,
              fall: pool.healthCheckFall,
            },
            scheduler,
          ).pipe(
            tap((result) => this.reportProbe(result)),
            share(),
          )
        : EMPTY;
    const probeOutcomes$ = probes$.pipe(
      map((result): EjectionInput => ({ backend: result.backend, probeUp: result.up })),
    );
    const ejections$ = pool.passiveHealthCheck
      ? merge(this.outcomes, probeOutcomes$).pipe(
          outlierEjection(
            {
              backends$: names$,
              maxFails: pool.maxFails,
              ejectTimeMs: pool.ejectTimeMs,
              maxEjectionPercent: pool.maxEjectionPercent,
              ...(activeChecks ? { unejectAfterProbes: pool.healthCheckRise } : {}),
            },
            scheduler,
          ),
        )
      : EMPTY;
    return healthySet(
      { backends$, probes$, ejections$ },
      { dynamicWeights: pool.dynamicWeights, slowStartMs: pool.slowStartMs, activeChecks },
      scheduler,
    );
  }

  private reportProbe(result: CheckedProbe): void {
    this.deps.emit({
      type: 'health-check',
      pool: this.current.name,
      backend: result.backend,
      up: result.up,
      healthy: result.healthy,
      latencyMs: result.latencyMs ?? 0,
      ...(result.reason === undefined ? {} : { reason: result.reason }),
    });
  }

  /** The snapshot in effect now (undefined before start). */
  get snapshot(): HealthySnapshot | undefined {
    return this.latest;
  }

  start(): void {
    if (this.subscription) return;
    const follower = this.deps.leader !== undefined;
    this.subscription = this.snapshots$
      .pipe(startWith(undefined), pairwise())
      .subscribe(([previous, next]) => {
        if (!next) return;
        this.latest = next;
        this.refreshCandidates();
        if (previous && !follower) {
          for (const transition of healthTransitions(previous, next)) {
            if (!this.members.has(transition.backend)) continue;
            this.deps.emit({ type: 'health', pool: this.current.name, ...transition });
          }
        }
        this.deps.onSnapshot?.();
      });
  }

  private refreshCandidates(): void {
    const snapshot = this.latest;
    if (!snapshot) return;
    const healthy = snapshot.healthy.filter(
      (name) => this.members.has(name) && !this.drained.has(name),
    );
    this.candidates = candidatesOf(this.members, healthy, snapshot);
    this.inRotation = new Set(healthy);
  }

  /**
   * A reload's pool: settings, servers and members. Backends that stay keep their health; a
   * change of health-check or ejection settings starts the health state afresh.
   */
  reconfigure(pool: PoolConfig, members: readonly M[]): void {
    const previous = this.current;
    this.current = pool;
    this.members.clear();
    for (const member of members) this.members.set(member.name, member);
    if (
      previous.algorithm !== pool.algorithm ||
      previous.hashBalanceFactor !== pool.hashBalanceFactor
    ) {
      this.picker = this.newPicker();
    }
    // A name at a new address is another backend: a list without it first ends its health state.
    const moved = movedNames(previous, pool);
    if (moved.size > 0) {
      this.backendList$.next(this.backendInfos().filter((info) => !moved.has(info.name)));
    }
    this.backendList$.next(this.backendInfos());
    const ownHealth = !this.deps.leader && !this.deps.remote;
    if (ownHealth && HEALTH_SETTINGS.some((key) => previous[key] !== pool[key])) {
      this.rebuilds.next();
    }
    this.refreshCandidates();
  }

  /** Takes a backend out of rotation (true) or lets it back (false) without touching its health. */
  setDrained(name: string, drained: boolean): void {
    if (drained) this.drained.add(name);
    else this.drained.delete(name);
    this.refreshCandidates();
  }

  isDrained(name: string): boolean {
    return this.drained.has(name);
  }

  /** A runtime weight over the configured one (undefined: back to the configured weight). */
  setWeight(name: string, weight: number | undefined): void {
    if (weight === undefined) this.weightOverrides.delete(name);
    else this.weightOverrides.set(name, weight);
    this.backendList$.next(this.backendInfos());
  }

  weightOverride(name: string): number | undefined {
    return this.weightOverrides.get(name);
  }

  /** Whether a backend is in rotation now. */
  isInRotation(name: string): boolean {
    return this.inRotation.has(name);
  }

  /** How many backends are in rotation now. */
  get healthyCount(): number {
    return this.candidates.length;
  }

  /** The backend for a request, leaving out `excluded`; undefined when none is left. */
  pick(hashKey: string | undefined, excluded: ReadonlySet<string> | undefined): M | undefined {
    const request =
      hashKey === undefined && excluded === undefined ? NO_CONTEXT : { hashKey, excluded };
    return this.picker(this.candidates, request)?.member;
  }

  /**
   * Real traffic's verdict on a backend, for passive health checks: `failure` says whether a
   * failure was a connection that could not be made or kept, or a bad response.
   */
  reportOutcome(backend: string, ok: boolean, failure?: TrafficOutcome['failure']): void {
    if (this.deps.leader) {
      this.deps.leader.reportOutcome(backend, ok, failure);
      return;
    }
    if (ok && !this.failing.has(backend)) return;
    if (ok) this.failing.delete(backend);
    else this.failing.add(backend);
    const outcome = failure === undefined ? { backend, ok } : { backend, ok, failure };
    const remote = this.deps.remote;
    if (!remote) this.outcomes.next(outcome);
    else if (this.current.passiveHealthCheck) remote.reportOutcome(this.current.name, outcome);
  }

  stop(): void {
    this.subscription?.unsubscribe();
    this.outcomes.complete();
    this.rebuilds.complete();
    this.backendList$.complete();
  }
}

function sameList(a: readonly BackendInfo[], b: readonly BackendInfo[]): boolean {
  return (
    a.length === b.length &&
    a.every((info, i) => info.name === b[i]?.name && info.weight === b[i]?.weight)
  );
}

function candidatesOf<M extends Member>(
  members: ReadonlyMap<string, M>,
  healthy: readonly string[],
  snapshot: HealthySnapshot,
): MemberCandidate<M>[] {
  return healthy.flatMap((name) => {
    const member = members.get(name);
    if (!member) return [];
    const weight = snapshot.weights.get(name) ?? 1;
    return [
      {
        name,
        weight,
        member,
        get load() {
          return member.load;
        },
      },
    ];
  });
}

/** The servers of `next` that `previous` has under the same name at another address (or TLS). */
function movedNames(previous: PoolConfig, next: PoolConfig): Set<string> {
  const before = new Map(previous.servers.map((server) => [server.name, server]));
  const moved = new Set<string>();
  for (const server of next.servers) {
    const old = before.get(server.name);
    if (old !== undefined && !sameEndpoint(old, server)) moved.add(server.name);
  }
  return moved;
}
