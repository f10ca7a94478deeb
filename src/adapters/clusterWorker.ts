import { Observable, share, type Subscription } from 'rxjs';
import type { OutcomeRelay } from '../backendGroup';
import { isToWorker, type ToPrimary, type ToWorker, type WorkerFigures } from '../cluster/messages';
import type { ProbeResult } from '../health/probeResult';
import type { LiveState } from '../observability/liveState';
import type { TrafficOutcome } from '../operators/outlierEjection';
import type { ServerControl } from '../proxy';
import type { ProbeKey, ProbeSharing } from './sharedProbes';

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
 * Health probes made by the primary: a prober's probe is asked for over IPC and the primary's
 * SharedProbes makes it, once per server and interval for all the workers. The request the
 * prober offers is not used here: the primary makes its own from the key.
 */
export class IpcProbes implements ProbeSharing {
  private nextId = 1;
  private readonly waiting = new Map<number, (result: ProbeResult) => void>();
  private readonly answers: Subscription;

  constructor(private readonly channel: PrimaryChannel) {
    this.answers = fromPrimary(channel).subscribe((message) => {
      if (message.type !== 'rxproxy:probe-result') return;
      const deliver = this.waiting.get(message.id);
      this.waiting.delete(message.id);
      deliver?.(message.result);
    });
  }

  probe(_user: object, key: ProbeKey, backend: string): Observable<ProbeResult> {
    return new Observable<ProbeResult>((subscriber) => {
      const id = this.nextId++;
      this.waiting.set(id, (result) => {
        subscriber.next({ ...result, backend });
        subscriber.complete();
      });
      this.channel.send({ type: 'rxproxy:probe', id, key, backend });
      return () => {
        if (this.waiting.delete(id)) this.channel.send({ type: 'rxproxy:probe-cancel', id });
      };
    });
  }

  /** The primary forgets a worker's probes when the worker goes. */
  release(): void {}

  close(): void {
    this.answers.unsubscribe();
    this.waiting.clear();
  }
}

/** Traffic outcomes to and from the other workers, through the primary. */
export function ipcOutcomeRelay(channel: PrimaryChannel): OutcomeRelay {
  // One listener on the channel for every pool's health pipeline.
  const messages$ = fromPrimary(channel).pipe(share());
  return {
    send: (pool: string, outcome: TrafficOutcome) =>
      channel.send({ type: 'rxproxy:outcome', pool, outcome }),
    received: (pool: string) =>
      new Observable<TrafficOutcome>((subscriber) =>
        messages$.subscribe((message) => {
          if (message.type === 'rxproxy:outcome' && message.pool === pool) {
            subscriber.next(message.outcome);
          }
        }),
      ),
  };
}

/** The primary's reload orders, as the trigger each names. */
export function reloadOrders(channel: PrimaryChannel): Observable<string> {
  return new Observable<string>((subscriber) =>
    fromPrimary(channel).subscribe((message) => {
      if (message.type === 'rxproxy:reload') subscriber.next(message.trigger);
    }),
  );
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
}

/** Answers the primary's status asks and applies its control orders until unsubscribed. */
export function answerPrimary(channel: PrimaryChannel, proxy: PrimaryAsks): Subscription {
  return fromPrimary(channel).subscribe((message) => {
    if (message.type === 'rxproxy:control') {
      proxy.control(message.pool, message.server, message.command);
    } else if (message.type === 'rxproxy:status') {
      const figures = workerFigures(proxy.live);
      channel.send({ type: 'rxproxy:status-result', id: message.id, figures });
    }
  });
}
