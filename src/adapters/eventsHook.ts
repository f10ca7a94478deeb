import { Subject, type Observable, type Subscription } from '../rx';
import type { ProxyEvent } from '../events';
import type { EventsHook } from '../hooks/types';

const SOURCE = 'events hook';

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Feeds a user's `events` hook off the hot path: events are queued and handed over in a later
 * tick, in batches, so a slow or throwing subscriber never delays the request that caused the
 * event. Its failures become `internal-error` events (which are not fed back to it).
 */
export function deliverEvents(
  events$: Observable<ProxyEvent>,
  hook: EventsHook,
  emit: (event: ProxyEvent) => void,
): Subscription {
  const input = new Subject<ProxyEvent>();
  const queue: ProxyEvent[] = [];
  let scheduled: NodeJS.Immediate | undefined;
  const report = (error: unknown) =>
    emit({ type: 'internal-error', source: SOURCE, message: messageOf(error) });
  const flush = () => {
    scheduled = undefined;
    for (const event of queue.splice(0)) {
      try {
        input.next(event);
      } catch (error) {
        report(error);
      }
    }
  };
  let output: Observable<unknown> | void = undefined;
  try {
    output = hook(input.asObservable());
  } catch (error) {
    report(error);
  }
  const subscription = output?.subscribe({ error: report }) ?? undefined;
  const feeding = events$.subscribe({
    next: (event) => {
      if (event.type === 'internal-error' && event.source === SOURCE) return;
      queue.push(event);
      scheduled ??= setImmediate(flush);
    },
    complete: () => {
      if (scheduled !== undefined) clearImmediate(scheduled);
      flush();
      input.complete();
    },
  });
  feeding.add(() => {
    if (scheduled !== undefined) clearImmediate(scheduled);
    subscription?.unsubscribe();
  });
  return feeding;
}
