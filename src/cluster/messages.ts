import type { CheckedProbe } from '../streams/activeHealth';
import type { WireSnapshot } from './snapshotWire';
import type { TrafficOutcome } from '../operators/outlierEjection';
import type { LivePool } from '../observability/liveState';
import type { ProxyStatus } from '../observability/statusReport';
import type { ServerControl } from '../proxy';
import type { ProxyEvent } from '../events';

/**
 * The messages between the primary and its workers over the cluster's IPC channel. Every type
 * starts with `rxproxy:`, so other users of the channel (prom-client's aggregator) are told apart.
 */

/** A worker asks for the latest health of pool `pool` (its snapshot, when the primary has one). */
export interface HealthWatch {
  readonly type: 'rxproxy:health-watch';
  readonly pool: string;
}

/** The primary's healthy-set snapshot of pool `pool`, sent to every worker when it changes. */
export interface SnapshotNote {
  readonly type: 'rxproxy:snapshot';
  readonly pool: string;
  readonly snapshot: WireSnapshot;
}

/** A probe the primary made for pool `pool`, after rise and fall: for the workers' counters. */
export interface ProbeNote {
  readonly type: 'rxproxy:health-check';
  readonly pool: string;
  readonly result: CheckedProbe;
}

/** A traffic outcome of pool `pool`, from a worker to the primary's passive health checks. */
export interface OutcomeNote {
  readonly type: 'rxproxy:outcome';
  readonly pool: string;
  readonly outcome: TrafficOutcome;
}

/** While someone reads the primary's `/events`, workers send their events (`on`), else not. */
export interface FeedOrder {
  readonly type: 'rxproxy:feed';
  readonly on: boolean;
}

/**
 * Whether workers count metrics for the primary's `/metrics` (its admin listener is on), and
 * with which `metrics_buckets`: undefined when off.
 */
export interface MetricsOrder {
  readonly type: 'rxproxy:metrics';
  readonly buckets: readonly number[] | undefined;
}

/** A batch of a worker's events, for the primary's `/events`. */
export interface EventsNote {
  readonly type: 'rxproxy:events';
  readonly pid: number;
  readonly events: readonly ProxyEvent[];
}

/** The primary asks every worker to reload the file it has just validated. */
export interface ReloadOrder {
  readonly type: 'rxproxy:reload';
  readonly trigger: string;
}

/** The primary asks a worker for its figures, for `/status` and `/readyz`. */
export interface StatusAsk {
  readonly type: 'rxproxy:status';
  readonly id: number;
}

/** What a worker reports of itself. */
export interface WorkerFigures {
  readonly pid: number;
  readonly requestsInFlight: number;
  readonly ready: boolean;
  readonly reason: string;
  readonly pools: readonly LivePool[];
}

export interface StatusAnswer {
  readonly type: 'rxproxy:status-result';
  readonly id: number;
  readonly figures: WorkerFigures;
  /** The worker's own `/status`, as a single process with its traffic would answer it. */
  readonly status: ProxyStatus;
}

/** The admin API's server control (drain, enable, weight), for every worker to apply. */
export interface ControlOrder {
  readonly type: 'rxproxy:control';
  readonly pool: string;
  readonly server: string;
  readonly command: ServerControl;
}

export type ToPrimary = HealthWatch | OutcomeNote | StatusAnswer | EventsNote;
export type ToWorker =
  SnapshotNote | ProbeNote | ReloadOrder | StatusAsk | ControlOrder | FeedOrder | MetricsOrder;

const TO_PRIMARY: ReadonlySet<string> = new Set([
  'rxproxy:health-watch',
  'rxproxy:outcome',
  'rxproxy:status-result',
  'rxproxy:events',
]);
const TO_WORKER: ReadonlySet<string> = new Set([
  'rxproxy:snapshot',
  'rxproxy:health-check',
  'rxproxy:reload',
  'rxproxy:status',
  'rxproxy:control',
  'rxproxy:feed',
  'rxproxy:metrics',
]);

function typeOf(message: unknown): unknown {
  return typeof message === 'object' && message !== null
    ? (message as { type?: unknown }).type
    : undefined;
}

/** Whether a message a worker sent is one of ours (the channel carries others too). */
export function isToPrimary(message: unknown): message is ToPrimary {
  const type = typeOf(message);
  return typeof type === 'string' && TO_PRIMARY.has(type);
}

/** Whether a message the primary sent is one of ours. */
export function isToWorker(message: unknown): message is ToWorker {
  const type = typeOf(message);
  return typeof type === 'string' && TO_WORKER.has(type);
}

/**
 * The events a cluster's primary logs and feeds itself: the health it computes. Workers emit them
 * too (for their own counters) but neither log nor forward them, so each appears once.
 */
export function isPrimaryHealthEvent(event: ProxyEvent): boolean {
  return event.type === 'health' || event.type === 'health-check';
}
