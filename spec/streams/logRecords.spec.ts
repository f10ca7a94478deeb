import type { ProxyEvent } from '../../src/events';
import { logRecords } from '../../src/streams/logRecords';
import { marbles } from '../helpers/marbles';

const request = (status: number): ProxyEvent => ({
  type: 'request',
  pool: 'http',
  method: 'GET',
  url: '/a?b=1',
  backend: 'server1',
  status,
  durationMs: 1.5,
});

describe('logRecords', () => {
  it('turns each event into a record at a level that fits it', () => {
    marbles(({ cold, expectObservable, expectSubscriptions }) => {
      const events = cold<ProxyEvent>('a-b-c-d|', {
        a: { type: 'listening', host: '127.0.0.1', port: 8080 },
        b: request(200),
        c: request(502),
        d: { type: 'internal-error', source: 'frontend', message: 'boom' },
      });
      expectObservable(logRecords(events)).toBe('a-b-c-d|', {
        a: {
          level: 'info',
          msg: 'listening',
          fields: { event: 'listening', host: '127.0.0.1', port: 8080 },
        },
        b: {
          level: 'info',
          msg: 'request completed',
          fields: {
            event: 'request',
            pool: 'http',
            method: 'GET',
            url: '/a?b=1',
            backend: 'server1',
            status: 200,
            durationMs: 1.5,
          },
        },
        c: expect.objectContaining({ level: 'warn' }) as unknown,
        d: expect.objectContaining({ level: 'error', msg: 'internal error' }) as unknown,
      });
      expectSubscriptions(events.subscriptions).toBe('^------!');
    });
  });

  it('logs a backend leaving rotation as a warning and its return as info', () => {
    marbles(({ cold, expectObservable }) => {
      const events = cold<ProxyEvent>('ab', {
        a: {
          type: 'health',
          pool: 'http',
          backend: 'server1',
          healthy: false,
          reason: 'health check: status 503',
        },
        b: { type: 'health', pool: 'http', backend: 'server1', healthy: true },
      });
      expectObservable(logRecords(events)).toBe('ab', {
        a: {
          level: 'warn',
          msg: 'backend health changed',
          fields: {
            event: 'health',
            pool: 'http',
            backend: 'server1',
            healthy: false,
            reason: 'health check: status 503',
          },
        },
        b: expect.objectContaining({ level: 'info' }) as unknown,
      });
    });
  });

  it('drops events below the enabled level before building a record', () => {
    marbles(({ cold, expectObservable }) => {
      const events = cold<ProxyEvent>('ab', { a: request(200), b: request(503) });
      const warnAndAbove = (level: string) => level === 'warn' || level === 'error';
      expectObservable(logRecords(events, warnAndAbove)).toBe('-b', {
        b: expect.objectContaining({ level: 'warn' }) as unknown,
      });
    });
  });

  it('mirrors never, empty and error, and unsubscribes early', () => {
    marbles(({ cold, expectObservable, expectSubscriptions }) => {
      expectObservable(logRecords(cold('-'))).toBe('-');
      expectObservable(logRecords(cold('|'))).toBe('|');
      expectObservable(logRecords(cold('--#'))).toBe('--#');
      const endless = cold<ProxyEvent>('a-a-a-a', { a: request(204) });
      expectObservable(logRecords(endless), '^--!').toBe('a-a-', {
        a: expect.objectContaining({ level: 'info' }) as unknown,
      });
      expectSubscriptions(endless.subscriptions).toBe('^--!');
    });
  });
});
