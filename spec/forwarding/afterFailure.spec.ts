import { afterFailure, type FailedAttempt, type NextStep } from '../../src/forwarding/afterFailure';

const attempt: FailedAttempt = {
  code: 'ECONNRESET',
  method: 'GET',
  responseStarted: false,
  dispatched: true,
  withBody: false,
  reusedConnection: false,
  staleRetryUsed: false,
  retriesLeft: 1,
};

describe('afterFailure', () => {
  it.each<[string, Partial<FailedAttempt>, NextStep]>([
    ['a response already begun is cut', { responseStarted: true }, 'cut'],
    ['a failure that is no connection failure is answered', { code: 'QUEUE_TIMEOUT' }, 'answer'],
    ['a response timeout is answered', { code: 'UND_ERR_HEADERS_TIMEOUT' }, 'answer'],
    [
      'a queued GET moves off a refusing backend',
      { dispatched: false, code: 'ECONNREFUSED' },
      'move',
    ],
    [
      'a queued POST with a body moves too: nothing was sent',
      { dispatched: false, code: 'ECONNREFUSED', method: 'POST', withBody: true },
      'move',
    ],
    ['a sent request with a body is not sent again', { withBody: true, method: 'PUT' }, 'answer'],
    ['a reset on a reused connection is retried fresh once', { reusedConnection: true }, 'stale'],
    [
      'a stale POST without a body is retried fresh too',
      { reusedConnection: true, method: 'POST' },
      'stale',
    ],
    [
      'after the stale retry, an idempotent request tries the next backend',
      { reusedConnection: true, staleRetryUsed: true },
      'next',
    ],
    ['a refused idempotent request tries the next backend', { code: 'ECONNREFUSED' }, 'next'],
    ['a sent POST is never retried', { method: 'POST' }, 'answer'],
    ['no retries left: answered', { retriesLeft: 0 }, 'answer'],
    ['a closed worker counts as stale', { code: 'WORKER_CLOSED' }, 'stale'],
  ])('%s', (_name, change, step) => {
    expect(afterFailure({ ...attempt, ...change })).toBe(step);
  });
});
