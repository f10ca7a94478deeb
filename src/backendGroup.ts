import {
  EMPTY,
  Subject,
  asyncScheduler,
  catchError,
  map,
  merge,
  pairwise,
  share,
  shareReplay,
  startWith,
  tap,
  type Observable,
  type OperatorFunction,
  type SchedulerLike,
  type Subscription,
} from 'rxjs';
import { createPicker, type Candidate, type Picker, type RandomSource } from './balancing';
import type { PoolConfig } from './config';
import type { ProxyEvent } from './events';
import { healthTransitions } from './health/transitions';
import {
  outlierEjection,
  type EjectionInput,
  type TrafficOutcome,
} from './operators/outlierEjection';
import { activeHealth, type CheckedProbe, type Probe } from './streams/activeHealth';
import { healthySet, type HealthySnapshot } from './streams/healthySet';

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
}

function candidatesOf<M extends Member>(
  members: ReadonlyMap<string, M>,
  snapshot: HealthySnapshot,
): MemberCandidate<M>[] {
  return snapshot.healthy.flatMap((name) => {
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

/**
 * One pool's backends as the data plane sees them: the healthy-set stream (active checks and
 * passive ejection) kept in a plain field, and the configured algorithm picking over it.
 */
export class BackendGroup<M extends Member> {
  private readonly members: ReadonlyMap<string, M>;
  private readonly picker: Picker;
  private readonly outcomes = new Subject<TrafficOutcome>();
  private inRotation: ReadonlySet<string> = new Set();
  /** Backends whose last reported outcome failed: only they need successes reported. */
  private readonly failing = new Set<string>();
  private candidates: readonly MemberCandidate<M>[];
  private subscription: Subscription | undefined;
  private latest: HealthySnapshot | undefined;
  readonly snapshots$: Observable<HealthySnapshot>;

  constructor(
    readonly pool: PoolConfig,
    members: readonly M[],
    private readonly deps: BackendGroupDeps,
  ) {
    this.members = new Map(members.map((member) => [member.name, member]));
    this.picker = createPicker(pool.algorithm, {
      ...(deps.random ? { random: deps.random } : {}),
      hashBalanceFactor: pool.hashBalanceFactor,
    });
    this.snapshots$ = this.buildSnapshots();
    this.candidates = pool.servers.flatMap((server) => {
      const member = this.members.get(server.name);
      return member ? [{ name: server.name, weight: server.weight, member, load: 0 }] : [];
    });
  }

  /** The healthy-set stream of this pool (shared, replaying the latest snapshot). */
  private buildSnapshots(): Observable<HealthySnapshot> {
    const { pool, deps } = this;
    if (deps.leader) return deps.leader.snapshots$;
    const scheduler = deps.scheduler ?? asyncScheduler;
    const names = pool.servers.map((server) => server.name);
    const probe = deps.probe;
    const activeChecks = pool.enableHealthCheck && probe !== undefined;
    const probes$ =
      activeChecks && probe
        ? activeHealth(
            names,
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
              backends: names,
              maxFails: pool.maxFails,
              ejectTimeMs: pool.ejectTimeMs,
              maxEjectionPercent: pool.maxEjectionPercent,
              ...(activeChecks ? { unejectAfterProbes: pool.healthCheckRise } : {}),
            },
            scheduler,
          ),
        )
      : EMPTY;
    const backends = pool.servers.map((server) => ({ name: server.name, weight: server.weight }));
    const snapshots$ = healthySet(
      { backends, probes$, ejections$ },
      { dynamicWeights: pool.dynamicWeights, slowStartMs: pool.slowStartMs },
      scheduler,
    );
    const hook = deps.mapSnapshots;
    if (!hook) return snapshots$;
    return snapshots$.pipe(
      hook,
      catchError((error: unknown) => {
        const message = error instanceof Error ? error.message : String(error);
        deps.emit({ type: 'internal-error', source: 'healthySet hook', message });
        return snapshots$;
      }),
      shareReplay({ bufferSize: 1, refCount: true }),
    );
  }

  private reportProbe(result: CheckedProbe): void {
    this.deps.emit({
      type: 'health-check',
      pool: this.pool.kind,
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
    const { pool } = this;
    const follower = this.deps.leader !== undefined;
    this.subscription = this.snapshots$
      .pipe(startWith(undefined), pairwise())
      .subscribe(([previous, next]) => {
        if (!next) return;
        this.latest = next;
        this.candidates = candidatesOf(this.members, next);
        this.inRotation = new Set(next.healthy);
        if (previous && !follower) {
          for (const transition of healthTransitions(previous, next)) {
            this.deps.emit({ type: 'health', pool: pool.kind, ...transition });
          }
        }
        this.deps.onSnapshot?.();
      });
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
    this.outcomes.next(failure === undefined ? { backend, ok } : { backend, ok, failure });
  }

  stop(): void {
    this.subscription?.unsubscribe();
    this.outcomes.complete();
  }
}
