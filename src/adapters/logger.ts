import pino, { type Logger } from 'pino';
import type { Observable, Subscription } from '../rx';
import type { LogLevel } from '../config';
import type { LogRecord } from '../streams/logRecords';

export type { Logger } from 'pino';

/** JSON lines on stdout; writes are asynchronous, so call flushSync before exiting. */
export function createLogger(level: LogLevel): Logger {
  return pino(
    { level, base: { name: 'rxproxy' }, timestamp: pino.stdTimeFunctions.isoTime },
    pino.destination({ dest: 1, sync: false }),
  );
}

export function writeLogRecords(records$: Observable<LogRecord>, logger: Logger): Subscription {
  return records$.subscribe((record) => logger[record.level](record.fields, record.msg));
}
