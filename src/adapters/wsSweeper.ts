import type { TunnelEndpoint } from './tunnelEndpoint';

/** The two connections of an open WebSocket, as the sweeper sees them. */
export interface SweptSession {
  readonly client: TunnelEndpoint;
  readonly backend: TunnelEndpoint;
}

export interface SweepSettings {
  readonly pingIntervalMs: number;
  readonly idleTimeoutMs: number;
}

/**
 * Liveness and idleness for every open WebSocket with one interval per proxy, not a timer per
 * connection: each ping_interval both peers are pinged (one that sent nothing since the previous
 * ping is dropped), and a session without a message either way for idle_timeout is closed with
 * 1000 on both sides.
 */
export class WsSweeper {
  private timer: NodeJS.Timeout | undefined;
  private lastPing = 0;
  /** Messages both ways at the sweep where they last changed, and when that was. */
  private readonly seen = new WeakMap<SweptSession, { messages: number; since: number }>();

  constructor(
    private readonly sessions: ReadonlySet<SweptSession>,
    private readonly settings: () => SweepSettings,
  ) {}

  /** (Re)starts the interval for the current settings. */
  start(): void {
    this.stop();
    const { pingIntervalMs, idleTimeoutMs } = this.settings();
    const periods = [pingIntervalMs, idleTimeoutMs / 4].filter((ms) => ms > 0);
    if (periods.length === 0) return;
    this.timer = setInterval(() => this.sweep(), Math.max(50, Math.min(...periods)));
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private sweep(): void {
    const now = Date.now();
    const { pingIntervalMs, idleTimeoutMs } = this.settings();
    const ping = pingIntervalMs > 0 && now - this.lastPing >= pingIntervalMs;
    if (ping) this.lastPing = now;
    for (const session of this.sessions) {
      if (ping) {
        session.client.heartbeat();
        session.backend.heartbeat();
      }
      if (idleTimeoutMs <= 0) continue;
      const messages = session.client.messages + session.backend.messages;
      const seen = this.seen.get(session);
      if (!seen) {
        this.seen.set(session, { messages, since: now });
      } else if (seen.messages !== messages) {
        seen.messages = messages;
        seen.since = now;
      } else if (now - seen.since >= idleTimeoutMs) {
        session.client.close(1000, 'idle timeout');
        session.backend.close(1000, 'idle timeout');
      }
    }
  }
}
