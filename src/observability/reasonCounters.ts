import { Counter, type Registry } from 'prom-client';

/** `rxproxy_rejected_total` series that exist from the start, at 0. */
export const BUILT_IN_REJECT_REASONS = [
  'queue_full',
  'queue_timeout',
  'pending_full',
  'no_healthy_backend',
  'header_timeout',
  'body_timeout',
  'too_large',
  'bad_request',
  'shutting_down',
  'rate_limited',
  'forbidden',
  'hook_failed',
  'hook_reply',
  'no_route',
] as const;

type CounterChild = Counter.Internal;

/**
 * The counters labelled by a reason or a close code, not by server: prom-client's own, with each
 * label's child looked up once.
 */
export class ReasonCounters {
  private readonly reasons = new Map<string, CounterChild>();
  private readonly closeCodes = new Map<number, CounterChild>();
  private readonly rejectedTotal: Counter<string>;
  private readonly closesTotal: Counter<string>;
  /** `rxproxy_config_reloads_total{result}`: `applied` and `rejected`, from the start. */
  readonly reloads: Readonly<Record<'applied' | 'rejected', CounterChild>>;

  constructor(registry: Registry) {
    this.rejectedTotal = new Counter({
      name: 'rxproxy_rejected_total',
      help: 'Requests, handshakes and connections the proxy answered itself, by reason.',
      labelNames: ['reason'],
      registers: [registry],
    });
    this.closesTotal = new Counter({
      name: 'rxproxy_websocket_closes_total',
      help: 'Closed WebSocket connections, by close code.',
      labelNames: ['code'],
      registers: [registry],
    });
    for (const reason of BUILT_IN_REJECT_REASONS) this.rejected(reason);
    const reloadsTotal = new Counter({
      name: 'rxproxy_config_reloads_total',
      help: 'Configuration reloads, by result: applied or rejected.',
      labelNames: ['result'],
      registers: [registry],
    });
    this.reloads = {
      applied: zeroed(new Map(), 'applied', reloadsTotal),
      rejected: zeroed(new Map(), 'rejected', reloadsTotal),
    };
  }

  rejected(reason: string): CounterChild {
    return this.reasons.get(reason) ?? zeroed(this.reasons, reason, this.rejectedTotal);
  }

  closedWith(code: number): CounterChild {
    return this.closeCodes.get(code) ?? zeroed(this.closeCodes, code, this.closesTotal);
  }
}

function zeroed<K extends string | number>(
  children: Map<K, CounterChild>,
  key: K,
  counter: Counter<string>,
): CounterChild {
  const child = counter.labels(`${key}`);
  child.inc(0);
  children.set(key, child);
  return child;
}
