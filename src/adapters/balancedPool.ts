import type { IncomingMessage } from 'node:http';
import type { PoolConfig } from '../config';
import type { StickyCookie } from '../forwarding/stickyCookie';
import type { TrafficOutcome } from '../operators/outlierEjection';

/** What a data-plane adapter needs of a pool's balancing and health, whatever it relays. */
export interface BalancedPool<M> {
  readonly pool: PoolConfig;
  /** The next backend the algorithm picks, leaving out `excluded`; undefined when none is left. */
  readonly pick: (
    hashKey: string | undefined,
    excluded: ReadonlySet<string> | undefined,
  ) => M | undefined;
  /** Backends in rotation now. */
  readonly healthyCount: () => number;
  /** The client's address: the peer's, or the one a trusted proxy forwarded for. */
  readonly clientAddress: (req: IncomingMessage) => string | undefined;
  /** The pool's sticky-cookie rules; undefined with `sticky = none`. */
  readonly sticky: StickyCookie | undefined;
  /** consistent-hash's key for a request (undefined for other algorithms). */
  readonly hashKeyOf: (
    req: IncomingMessage,
    clientAddress: string | undefined,
  ) => string | undefined;
  /**
   * Passive health: whether a backend served an attempt; a failure says whether the connection
   * or the answer failed. Reported per member, so a member still draining after its address
   * changed cannot count against the new member of the same name.
   */
  readonly reportOutcome: (backend: M, ok: boolean, failure?: TrafficOutcome['failure']) => void;
}
