import { filter, map, type Observable } from '../rx';
import type { ProxyEvent } from '../events';

export type LogLevelName = 'error' | 'warn' | 'info' | 'debug';

export interface LogRecord {
  readonly level: LogLevelName;
  readonly msg: string;
  readonly fields: Readonly<Record<string, unknown>>;
}

export function levelOf(event: ProxyEvent): LogLevelName {
  switch (event.type) {
    case 'request':
      return event.status >= 500 ? 'warn' : 'info';
    case 'internal-error':
      return 'error';
    case 'config-rejected':
    case 'tls-unverified':
    case 'certificate-expiring':
      return 'warn';
    case 'certificate-reload':
      return event.outcome === 'failed' ? 'error' : 'info';
    case 'worker':
    case 'queue':
    case 'health-check':
      return 'debug';
    case 'health':
      return event.healthy ? 'info' : 'warn';
    case 'client-error':
      // A scanner's failed TLS handshakes would flood an info log.
      return event.code === 'ECONNRESET' || event.tls === true ? 'debug' : 'info';
    default:
      return 'info';
  }
}

const MESSAGES: Readonly<Record<ProxyEvent['type'], string>> = {
  listening: 'listening',
  'tls-unverified': 'tls_verify=false: backend certificates are not verified',
  'certificate-reload': 'front door certificate files changed',
  'certificate-expiring': 'front door certificate expires soon',
  request: 'request completed',
  'client-error': 'client error',
  'internal-error': 'internal error',
  retry: 'retrying on another backend',
  'health-check': 'health check',
  'websocket-rejected': 'websocket rejected',
  'config-applied': 'configuration applied',
  'config-rejected': 'configuration rejected, the running one stays',
  'server-control': 'server changed through the admin API',
  worker: 'worker',
  queue: 'queue depth',
  health: 'backend health changed',
  'websocket-open': 'websocket opened',
  'websocket-close': 'websocket closed',
  draining: 'draining',
  stopped: 'stopped',
};

export function toLogRecord(event: ProxyEvent): LogRecord {
  const { type, ...fields } = event;
  return { level: levelOf(event), msg: MESSAGES[type], fields: { event: type, ...fields } };
}

const everyLevel = () => true;

/**
 * Every proxy event as a structured log record. Events below the enabled level are dropped
 * before a record is built, so a quiet log costs no allocation per request.
 */
export function logRecords(
  events$: Observable<ProxyEvent>,
  enabled: (level: LogLevelName) => boolean = everyLevel,
): Observable<LogRecord> {
  return events$.pipe(
    filter((event) => enabled(levelOf(event))),
    map(toLogRecord),
  );
}
