import { Observable } from '../rx';

/** The termination signals as a stream; unsubscribing removes the handlers. */
export function fromSignals(
  signals: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT'],
): Observable<NodeJS.Signals> {
  return new Observable<NodeJS.Signals>((subscriber) => {
    const handler = (signal: NodeJS.Signals) => subscriber.next(signal);
    for (const signal of signals) process.on(signal, handler);
    return () => {
      for (const signal of signals) process.off(signal, handler);
    };
  });
}
