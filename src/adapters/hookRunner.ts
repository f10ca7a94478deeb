import type { IncomingMessage } from 'node:http';
import {
  asyncScheduler,
  from,
  of,
  take,
  type Observable,
  type OperatorFunction,
  type SchedulerLike,
  type Subscription,
} from '../rx';
import { hasStep } from '../hooks/syncHook';
import { renderAnswer } from '../forwarding/failures';
import {
  HOOK_FAILED,
  HOOK_TIMEOUT,
  renderReply,
  replyReason,
  type RenderedReply,
} from '../hooks/replies';
import { isReply, type ProxyReply, type ProxyRequest, type ProxyResponse } from '../hooks/types';

/** How a value's trip through a hook chain ended. */
export type HookOutcome<R> =
  | { readonly kind: 'value'; readonly value: R }
  | { readonly kind: 'failed'; readonly message: string }
  | { readonly kind: 'timeout' };

export interface HookChain<T, R> {
  readonly hooks: readonly OperatorFunction<T, T | R>[];
  /** Whether a value ends the chain early (a reply): later hooks do not see it. */
  readonly isFinal: (value: T | R) => value is R;
  readonly timeoutMs: number;
  /** Where the timeout is scheduled; tests pass a virtual-time scheduler. */
  readonly scheduler?: SchedulerLike;
}

/** Where routing sent a request before its hooks ran: `ProxyRequest.pool` and `.route`. */
export interface RequestPlace {
  readonly pool: string;
  readonly route: string | undefined;
}

/** The hooks the data plane runs (HTTP exchanges and WebSocket handshakes), when any. */
export interface ExchangeHooks {
  readonly request: HookChain<ProxyRequest, ProxyReply> | undefined;
  readonly response: HookChain<ProxyResponse, never> | undefined;
  /** The request as hooks see it, with the pool and route it was sent to. */
  readonly proxyRequest: (
    req: IncomingMessage,
    upgrade: boolean,
    remoteAddress: string | undefined,
    place: RequestPlace,
  ) => ProxyRequest;
  /** A hook failed for one request: reported as an `internal-error` event. */
  readonly failed: (source: 'request hook' | 'response hook', message: string) => void;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Runs one value through a chain of hooks, each applied to that value alone, so a hook's
 * error, silence or filter affects nobody else. A hook with a synchronous `step` is called
 * directly; others are subscribed with `of(value)`, and when they answer synchronously the
 * value never leaves the current tick. Only a chain that goes asynchronous starts a timer.
 */
export class HookRun<T, R> {
  private subscription: Subscription | undefined;
  private timer: Subscription | undefined;
  private done = false;

  constructor(
    private readonly chain: HookChain<T, R>,
    private readonly onDone: (outcome: HookOutcome<T | R>) => void,
  ) {}

  /** Starts the run; `onDone` may be called before this returns. */
  start(value: T): void {
    this.continueFrom(value, 0);
  }

  /** Stops waiting for an asynchronous hook (its client went away); `onDone` is not called. */
  cancel(): void {
    this.done = true;
    this.clear();
  }

  private continueFrom(start: T, from: number): void {
    const { hooks, isFinal } = this.chain;
    let value: T | R = start;
    for (let index = from; index < hooks.length; index++) {
      if (isFinal(value)) break;
      const hook = hooks[index];
      if (hook === undefined) continue;
      if (hasStep(hook)) {
        try {
          value = hook.step(value);
        } catch (error) {
          this.finish({ kind: 'failed', message: messageOf(error) });
          return;
        }
        continue;
      }
      const next = this.subscribe(hook, value, index);
      if (next === undefined) return;
      value = next.value;
    }
    this.finish({ kind: 'value', value });
  }

  /** The hook's first value when it came synchronously; undefined when the run waits or ended. */
  private subscribe(
    hook: OperatorFunction<T, T | R>,
    value: T,
    index: number,
  ): { value: T | R } | undefined {
    let synchronous = true;
    let result: { value: T | R } | undefined;
    let ended = false;
    let output: Observable<T | R>;
    try {
      output = from(hook(of(value)));
    } catch (error) {
      this.finish({ kind: 'failed', message: messageOf(error) });
      return undefined;
    }
    const subscription = output.pipe(take(1)).subscribe({
      next: (next) => {
        ended = true;
        if (synchronous) result = { value: next };
        else this.resume(next, index + 1);
      },
      error: (error: unknown) => {
        ended = true;
        this.finish({ kind: 'failed', message: messageOf(error) });
      },
      complete: () => {
        if (ended) return;
        ended = true;
        this.finish({ kind: 'failed', message: 'a hook completed without a value' });
      },
    });
    synchronous = false;
    if (result || ended) return result;
    this.subscription = subscription;
    this.timer ??= (this.chain.scheduler ?? asyncScheduler).schedule(() => {
      this.clear();
      this.finish({ kind: 'timeout' });
    }, this.chain.timeoutMs);
    return undefined;
  }

  private resume(value: T | R, from: number): void {
    if (this.done) return;
    this.subscription = undefined;
    if (this.chain.isFinal(value)) this.finish({ kind: 'value', value });
    else this.continueFrom(value, from);
  }

  private finish(outcome: HookOutcome<T | R>): void {
    if (this.done) return;
    this.done = true;
    this.clear();
    this.onDone(outcome);
  }

  private clear(): void {
    this.timer?.unsubscribe();
    this.timer = undefined;
    this.subscription?.unsubscribe();
    this.subscription = undefined;
  }
}

/** What a finished request-hook run means: forward the request, or answer with these bytes. */
export type RequestVerdict =
  | { readonly forward: true }
  | {
      readonly forward: false;
      readonly answer: RenderedReply;
      readonly error: string | undefined;
      readonly rejected: string;
    };

/**
 * Turns a request-hook run's outcome into a verdict, the same for HTTP requests and WebSocket
 * handshakes: a failure (also a reply that cannot be written) is reported and answered 500, a
 * timeout 504, a reply as the hook wrote it.
 */
export function requestVerdict(
  outcome: HookOutcome<ProxyRequest | ProxyReply>,
  hooks: ExchangeHooks,
): RequestVerdict {
  if (outcome.kind === 'timeout') {
    return {
      forward: false,
      answer: renderAnswer(HOOK_TIMEOUT),
      error: HOOK_TIMEOUT.error,
      rejected: 'hook_failed',
    };
  }
  let message: string;
  if (outcome.kind === 'failed') {
    message = outcome.message;
  } else if (!isReply(outcome.value)) {
    return { forward: true };
  } else {
    try {
      return {
        forward: false,
        answer: renderReply(outcome.value),
        error: undefined,
        rejected: replyReason(outcome.value),
      };
    } catch (error) {
      message = messageOf(error);
    }
  }
  hooks.failed('request hook', message);
  return {
    forward: false,
    answer: renderAnswer(HOOK_FAILED),
    error: HOOK_FAILED.error,
    rejected: 'hook_failed',
  };
}

/**
 * Where a request goes after its hooks: `current` when they left `req.pool` alone (or set it to
 * the same name), another pool's adapter when `routeTo` knows the name. An unknown name turns the
 * outcome into a hook failure that names it; without `routeTo` no other pool is known.
 */
export function poolChoice<C>(
  outcome: HookOutcome<ProxyRequest | ProxyReply>,
  current: string,
  routeTo: ((pool: string) => C | undefined) | undefined,
): { readonly outcome: HookOutcome<ProxyRequest | ProxyReply>; readonly target: C | undefined } {
  if (outcome.kind !== 'value' || isReply(outcome.value)) return { outcome, target: undefined };
  const pool = outcome.value.pool;
  if (pool === current) return { outcome, target: undefined };
  const target = routeTo?.(pool);
  if (target !== undefined) return { outcome, target };
  return { outcome: { kind: 'failed', message: `unknown pool "${pool}"` }, target: undefined };
}
