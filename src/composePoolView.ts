import type { IncomingMessage } from 'node:http';
import type { BackendGroup, Member } from './backendGroup';
import type { PoolConfig } from './config';
import type { HashKeyOf } from './composeHttpPool';
import type { StickyCookie } from './forwarding/stickyCookie';
import type { TrafficOutcome } from './operators/outlierEjection';

/** A pool runtime as its data plane balances over it: HTTP workers or WebSocket backends. */
export interface BalancingRuntime<M extends Member> {
  readonly pool: PoolConfig;
  readonly sticky: StickyCookie | undefined;
  readonly hashKey: HashKeyOf;
  readonly group: BackendGroup<M>;
  member(name: string): M | undefined;
  /** Outcomes of a member draining after its address changed say nothing of the new one. */
  reportOutcome(member: M, ok: boolean, failure?: TrafficOutcome['failure']): void;
}

/**
 * The balancing part of what an HTTP exchange or a WebSocket handshake reads of its pool, from
 * the runtime as it is now (reloads replace its settings). A class rather than object literals:
 * the data plane's property reads see one object shape whichever pool serves them.
 */
export class RuntimePoolView<M extends Member> {
  constructor(
    protected readonly runtime: BalancingRuntime<M>,
    private readonly addressOf: (req: IncomingMessage) => string | undefined,
  ) {}

  get pool(): PoolConfig {
    return this.runtime.pool;
  }
  get sticky(): StickyCookie | undefined {
    return this.runtime.sticky;
  }
  // Properties, not methods: the data plane hands some of them on without their object.
  readonly member = (name: string) => this.runtime.member(name);
  readonly pick = (hashKey: string | undefined, excluded?: ReadonlySet<string>) =>
    this.runtime.group.pick(hashKey, excluded);
  readonly healthyCount = () => this.runtime.group.healthyCount;
  readonly isInRotation = (name: string) => this.runtime.group.isInRotation(name);
  readonly hashKeyOf = (req: IncomingMessage, address: string | undefined) =>
    this.runtime.hashKey(req, address);
  readonly reportOutcome = (member: M, ok: boolean, failure?: TrafficOutcome['failure']): void =>
    this.runtime.reportOutcome(member, ok, failure);
  readonly clientAddress = (req: IncomingMessage) => this.addressOf(req);
}
