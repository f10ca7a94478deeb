import { performance } from 'node:perf_hooks';
import { upstreamError } from '../forwarding/failures';
import type { WorkerPool, WorkerRequest } from './workerPool';

interface Waiting {
  readonly request: WorkerRequest;
  readonly timer: NodeJS.Timeout;
}

/**
 * A pool's waiting line: requests that found every backend they may use full wait here, first
 * come, first served, until a worker or queue place frees on one of those backends (HAProxy's
 * queue on `maxconn`, Envoy's pending requests). At most `capacity` requests wait; each leaves
 * with a 503 at its deadline (the same deadline as its backend queue: arrival + queue_timeout).
 */
export class PendingLine {
  private readonly waiting: Waiting[] = [];
  private closed = false;

  /** Settable: a reload applies a new max_pending to requests arriving from then on. */
  constructor(public capacity: number) {}

  get length(): number {
    return this.waiting.length;
  }

  /** Puts a request at the end of the line; false when the line is full or closed. */
  enter(request: WorkerRequest): boolean {
    if (this.closed || this.waiting.length >= this.capacity) return false;
    const wait = Math.max(0, request.deadline - performance.now());
    const timer = setTimeout(() => this.expire(request), wait);
    this.waiting.push({ request, timer });
    return true;
  }

  /** The oldest waiting request that may run on `backend`, taken out of the line. */
  takeFor(backend: WorkerPool): WorkerRequest | undefined {
    const waiting = this.waiting;
    for (let index = 0; index < waiting.length; index++) {
      const entry = waiting[index];
      if (entry && entry.request.allows(backend)) {
        waiting.splice(index, 1);
        clearTimeout(entry.timer);
        return entry.request;
      }
    }
    return undefined;
  }

  /** Takes a request out of the line (its client went away); false if it was not waiting. */
  cancel(request: WorkerRequest): boolean {
    const index = this.waiting.findIndex((entry) => entry.request === request);
    if (index < 0) return false;
    const [entry] = this.waiting.splice(index, 1);
    if (entry) clearTimeout(entry.timer);
    return true;
  }

  /** Fails every waiting request with `error` and refuses new ones. */
  close(error: NodeJS.ErrnoException): void {
    this.closed = true;
    for (const entry of this.waiting.splice(0)) {
      clearTimeout(entry.timer);
      entry.request.failBeforeDispatch(error);
    }
  }

  private expire(request: WorkerRequest): void {
    if (!this.cancel(request)) return;
    request.failBeforeDispatch(
      upstreamError('QUEUE_TIMEOUT', 'waited queue_timeout for a worker in the pool'),
    );
  }
}
