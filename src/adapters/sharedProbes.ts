import { performance } from 'node:perf_hooks';
import { Observable } from '../rx';
import { sameValue, type BackendTls } from '../config';
import { probeFailure, type ProbeResult } from '../health/probeResult';

/** What makes two health probes the same request, whatever the pools call the server. */
export interface ProbeKey {
  /** `http://host:port` or `https://host:port`. */
  readonly origin: string;
  readonly tls: BackendTls | undefined;
  readonly path: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
}

/**
 * A result is reused while younger than this share of the interval, counted from the start of
 * its request. The pool that made it probes again one interval after that start, so its next
 * regular probe always finds the result too old and makes a request: the margin absorbs timer
 * lateness. Any other pool with the same interval ticks once in between and reuses it.
 */
export const REUSE_SHARE = 0.9;

/** Starts the request of a probe; `signal` aborts it. A failed probe is a result, not a rejection. */
export type ProbeRequest = (signal: AbortSignal) => Promise<ProbeResult>;

interface Entry {
  readonly tls: BackendTls | undefined;
  readonly startedAt: number;
  readonly reuseMs: number;
  /** The probers that made or took this probe. */
  readonly users: Set<object>;
  /** Callers waiting for the request in flight; none left aborts it. */
  readonly waiters: Set<(result: ProbeResult) => void>;
  readonly abort: AbortController;
  result?: ProbeResult;
  expiry?: NodeJS.Timeout;
}

/**
 * Health probes shared by every pool of a process: a server listed in several pools with the
 * same address, TLS settings, `health_check_path`, `health_check_interval` and
 * `health_check_timeout` is probed once per interval. A caller finding the same probe in flight
 * waits for it; one finding a recent result takes it. Each caller gets the result under its own
 * backend name.
 */
export class SharedProbes {
  /** Entries by the key's text fields; entries under one text differ by TLS settings. */
  private readonly entries = new Map<string, Entry[]>();

  /** How many probes are in flight or have a reusable result (for tests and diagnostics). */
  get size(): number {
    let size = 0;
    for (const list of this.entries.values()) size += list.length;
    return size;
  }

  /**
   * The probe of `key` for `user` (a prober) as `backend`: joins the same probe in flight,
   * reuses a recent result, or starts `request`. Unsubscribing leaves the request to the
   * callers still waiting; the last one to leave aborts it.
   */
  probe(
    user: object,
    key: ProbeKey,
    backend: string,
    request: ProbeRequest,
  ): Observable<ProbeResult> {
    return new Observable<ProbeResult>((subscriber) => {
      const entry = this.current(key) ?? this.start(key, request);
      entry.users.add(user);
      const deliver = (result: ProbeResult) => {
        subscriber.next({ ...result, backend });
        subscriber.complete();
      };
      if (entry.result) {
        deliver(entry.result);
        return undefined;
      }
      entry.waiters.add(deliver);
      return () => {
        if (!entry.waiters.delete(deliver) || entry.waiters.size > 0) return;
        // Nobody waits any more: the request ends, and its answer, cut short, is nobody's.
        this.remove(key, entry);
        entry.abort.abort();
      };
    });
  }

  /** A prober that no longer probes: results only it used are dropped. */
  release(user: object): void {
    for (const [text, list] of this.entries) {
      for (const entry of list) {
        entry.users.delete(user);
        if (entry.users.size === 0 && entry.waiters.size === 0) this.remove(text, entry);
      }
    }
  }

  private current(key: ProbeKey): Entry | undefined {
    const text = textOf(key);
    const list = this.entries.get(text);
    const entry = list?.find((candidate) => sameValue(candidate.tls, key.tls));
    if (entry === undefined) return undefined;
    if (entry.result === undefined || performance.now() - entry.startedAt < entry.reuseMs) {
      return entry;
    }
    this.remove(text, entry);
    return undefined;
  }

  private start(key: ProbeKey, request: ProbeRequest): Entry {
    const text = textOf(key);
    const entry: Entry = {
      tls: key.tls,
      startedAt: performance.now(),
      reuseMs: key.intervalMs * REUSE_SHARE,
      users: new Set(),
      waiters: new Set(),
      abort: new AbortController(),
    };
    const list = this.entries.get(text);
    if (list) list.push(entry);
    else this.entries.set(text, [entry]);
    const settle = (result: ProbeResult, reusable: boolean) => {
      if (entry.abort.signal.aborted) return;
      entry.result = result;
      const waiters = [...entry.waiters];
      entry.waiters.clear();
      const left = entry.startedAt + entry.reuseMs - performance.now();
      if (reusable && left > 0 && entry.users.size > 0) {
        entry.expiry = setTimeout(() => this.remove(text, entry), left);
        entry.expiry.unref();
      } else {
        this.remove(text, entry);
      }
      for (const deliver of waiters) deliver(result);
    };
    // A request that throws, at once or later, fails this probe only: it is not kept for reuse.
    new Promise<ProbeResult>((resolve) => resolve(request(entry.abort.signal))).then(
      (result) => settle(result, true),
      (error: unknown) =>
        settle(probeFailure('', error instanceof Error ? error.message : String(error)), false),
    );
    return entry;
  }

  private remove(keyOrText: ProbeKey | string, entry: Entry): void {
    const text = typeof keyOrText === 'string' ? keyOrText : textOf(keyOrText);
    clearTimeout(entry.expiry);
    const list = this.entries.get(text);
    if (!list) return;
    const rest = list.filter((candidate) => candidate !== entry);
    if (rest.length > 0) this.entries.set(text, rest);
    else this.entries.delete(text);
  }
}

function textOf(key: ProbeKey): string {
  return JSON.stringify([key.origin, key.path, key.intervalMs, key.timeoutMs]);
}
