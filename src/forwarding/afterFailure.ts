import { IDEMPOTENT_METHODS, isConnectionFailure, isStaleConnectionFailure } from './failures';

/** What an exchange knows when an upstream attempt fails. */
export interface FailedAttempt {
  /** The failure's code (ECONNREFUSED, UND_ERR_SOCKET, QUEUE_TIMEOUT, ...). */
  readonly code: string | undefined;
  readonly method: string;
  /** Part of the response already went to the client. */
  readonly responseStarted: boolean;
  /** The request was handed to a connection (false: it was still waiting for a worker). */
  readonly dispatched: boolean;
  /** The request has a body: once dispatched it is not sent again. */
  readonly withBody: boolean;
  /** The attempt went out on a connection that had served requests before. */
  readonly reusedConnection: boolean;
  readonly staleRetryUsed: boolean;
  readonly retriesLeft: number;
}

/**
 * - `cut`: the response had begun; end the client's connection.
 * - `move`: it waited at a backend whose connections fail; nothing was sent, so it goes to
 *   another backend whatever its method, without using a retry.
 * - `stale`: a reused connection the backend had closed; try a fresh one once, any backend.
 * - `next`: the backend failed before answering; an idempotent request tries another one.
 * - `answer`: give the client the answer for the failure.
 */
export type NextStep = 'cut' | 'move' | 'stale' | 'next' | 'answer';

/** The retry rules of nginx's proxy_next_upstream, for one failed attempt. */
export function afterFailure(attempt: FailedAttempt): NextStep {
  const { code } = attempt;
  if (attempt.responseStarted) return 'cut';
  if (!isConnectionFailure(code)) return 'answer';
  if (!attempt.dispatched) return 'move';
  if (attempt.withBody) return 'answer';
  const stale =
    (attempt.reusedConnection || code === 'WORKER_CLOSED') && isStaleConnectionFailure(code);
  if (stale && !attempt.staleRetryUsed) return 'stale';
  if (IDEMPOTENT_METHODS.has(attempt.method) && attempt.retriesLeft > 0) return 'next';
  return 'answer';
}
