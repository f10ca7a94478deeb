import { Observable, share, type Subscription } from '../rx';
import type { RemoteHealth, RemoteHealthNote } from '../backendGroup';
import { isToWorker, type ToPrimary, type ToWorker, type WorkerFigures } from '../cluster/messages';
import { fromWire } from '../cluster/snapshotWire';
import type { LiveState } from '../observability/liveState';
import type { ProxyStatus } from '../observability/statusReport';
import type { ServerControl } from '../proxy';

/** A cluster worker's side of the IPC channel to its primary. */
export interface PrimaryChannel {
  send(message: ToPrimary): void;
  on(listener: (message: unknown) => void): void;
  off(listener: (message: unknown) => void): void;
}

/** The channel of this process, a worker forked by node:cluster. */
export function processChannel(): PrimaryChannel {
  return {
    // A worker whose primary is gone has nobody to tell: the message is dropped.
    send: (message) => {
      if (process.connected && process.send) process.send(message, undefined, {}, () => undefined);
    },
    on: (listener) => process.on('message', listener),
    off: (listener) => process.off('message', listener),
  };
}

/** The messages of ours the primary sends, as a stream; unsubscribing removes the listener. */
function fromPrimary(channel: PrimaryChannel): Observable<ToWorker> {
  return new Observable<ToWorker>((subscriber) => {
    const listener = (message: unknown) => {
      if (isToWorker(message)) subscriber.next(message);
    };
    channel.on(listener);
    return () => channel.off(listener);
  });
}

/**
 * The pools' health as the primary computes it: a watch asks the primary for the pool's latest
 * snapshot, then takes every snapshot and probe result the primary sends for that pool.
 */
export function ipcRemoteHealth(channel: PrimaryChannel): RemoteHealth {
  // One listener on the channel for every pool's watch.
  const messages$ = fromPrimary(channel).pipe(share());
  return {
    watch: (pool) =>
      new Observable<RemoteHealthNote>((subscriber) => {
        const notes = messages$.subscribe((message) => {
          if (message.type === 'rxproxy:snapshot' && message.pool === pool) {
            subscriber.next({ snapshot: fromWire(message.snapshot) });
          } else if (message.type === 'rxproxy:health-check' && message.pool === pool) {
            subscriber.next({ probe: message.result });
          }
        });
        channel.send({ type: 'rxproxy:health-watch', pool });
        return notes;
      }),
    reportOutcome: (pool, outcome) => channel.send({ type: 'rxproxy:outcome', pool, outcome }),
  };
}

/** The primary's messages of one type, each as `pick` reads it. */
function ordersOf<Type extends ToWorker['type'], Value>(
  channel: PrimaryChannel,
  type: Type,
  pick: (message: Extract<ToWorker, { type: Type }>) => Value,
): Observable<Value> {
  return new Observable<Value>((subscriber) =>
    fromPrimary(channel).subscribe((message) => {
      if (message.type === type)
        subscriber.next(pick(message as Extract<ToWorker, { type: Type }>));
    }),
  );
}

/** The primary's reload orders, as the trigger each names. */
export function reloadOrders(channel: PrimaryChannel): Observable<string> {
  return ordersOf(channel, 'rxproxy:reload', (message) => message.trigger);
}

/** The primary's feed orders: true while someone reads its `/events`. */
export function feedOrders(channel: PrimaryChannel): Observable<boolean> {
  return ordersOf(channel, 'rxproxy:feed', (message) => message.on);
}

/** The primary's metrics orders: the buckets to count with, undefined for none. */
export function metricsOrders(channel: PrimaryChannel): Observable<readonly number[] | undefined> {
  return ordersOf(channel, 'rxproxy:metrics', (message) => message.buckets);
}

/** What this worker reports of itself. */
export function workerFigures(live: LiveState): WorkerFigures {
  const readiness = live.readiness();
  return {
    pid: process.pid,
    requestsInFlight: live.requestsInFlight(),
    ready: readiness.ready,
    reason: readiness.reason,
    pools: live.pools(),
  };
}

/** What a worker's proxy does at the primary's asking. */
export interface PrimaryAsks {
  readonly live: LiveState;
  control(pool: string, server: string, command: ServerControl): unknown;
  /** The worker's own `/status` document, as a single process's. */
  status(): ProxyStatus;
}

/**
 * Answers the primary's status asks (the worker's figures and its own `/status`) and applies its
 * control orders until unsubscribed.
 */
export function answerPrimary(channel: PrimaryChannel, asks: PrimaryAsks): Subscription {
  return fromPrimary(channel).subscribe((message) => {
    if (message.type === 'rxproxy:control') {
      asks.control(message.pool, message.server, message.command);
    } else if (message.type === 'rxproxy:status') {
      const figures = workerFigures(asks.live);
      channel.send({
        type: 'rxproxy:status-result',
        id: message.id,
        figures,
        status: asks.status(),
      });
    }
  });
}
