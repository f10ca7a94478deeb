import type { ProbeResult } from '../health/probeResult';
import type { ProbeKey } from '../adapters/sharedProbes';
import type { TrafficOutcome } from '../operators/outlierEjection';
import type { LivePool } from '../observability/liveState';
import type { ServerControl } from '../proxy';

/**
 * The messages between the primary and its workers over the cluster's IPC channel. Every type
 * starts with `rxproxy:`, so other users of the channel (prom-client's aggregator) are told apart.
 */

/** A worker asks the primary for the probe of `key`, known to the worker as `backend`. */
export interface ProbeAsk {
  readonly type: 'rxproxy:probe';
  readonly id: number;
  readonly key: ProbeKey;
  readonly backend: string;
}

/** The worker no longer waits for probe `id`. */
export interface ProbeCancel {
  readonly type: 'rxproxy:probe-cancel';
  readonly id: number;
}

/** The primary's answer to probe `id`. */
export interface ProbeAnswer {
  readonly type: 'rxproxy:probe-result';
  readonly id: number;
  readonly result: ProbeResult;
}

/** A traffic outcome of pool `pool`: from a worker to the primary, then to every other worker. */
export interface OutcomeNote {
  readonly type: 'rxproxy:outcome';
  readonly pool: string;
  readonly outcome: TrafficOutcome;
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
}

/** The admin API's server control (drain, enable, weight), for every worker to apply. */
export interface ControlOrder {
  readonly type: 'rxproxy:control';
  readonly pool: string;
  readonly server: string;
  readonly command: ServerControl;
}

export type ToPrimary = ProbeAsk | ProbeCancel | OutcomeNote | StatusAnswer;
export type ToWorker = ProbeAnswer | OutcomeNote | ReloadOrder | StatusAsk | ControlOrder;

const TO_PRIMARY: ReadonlySet<string> = new Set([
  'rxproxy:probe',
  'rxproxy:probe-cancel',
  'rxproxy:outcome',
  'rxproxy:status-result',
]);
const TO_WORKER: ReadonlySet<string> = new Set([
  'rxproxy:probe-result',
  'rxproxy:outcome',
  'rxproxy:reload',
  'rxproxy:status',
  'rxproxy:control',
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
