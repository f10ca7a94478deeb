import type { OutOfRotationCause } from '../events';

/** Worker connections of one backend by state. */
export interface WorkerCounts {
  readonly busy: number;
  readonly idle: number;
  readonly connecting: number;
}

/** One server of one pool as the data plane sees it now: plain reads, no history. */
export interface LiveServer {
  readonly pool: string;
  readonly name: string;
  readonly address: string;
  readonly staticWeight: number;
  readonly inRotation: boolean;
  /** The weight the balancer uses now; 0 while out of rotation. */
  readonly effectiveWeight: number;
  /** Why it is out of rotation; undefined while in. */
  readonly down:
    | { readonly cause: OutOfRotationCause; readonly reason: string; readonly returnsAt?: number }
    | undefined;
  /** Upstream connections; undefined for a WebSocket-only pool (it keeps none). */
  readonly workers: WorkerCounts | undefined;
  readonly queueDepth: number;
  /** HTTP requests running on the server now. */
  readonly inFlight: number;
  readonly openWebSockets: number;
}

export interface LivePool {
  readonly name: string;
  readonly algorithm: string;
  readonly healthChecks: boolean;
  readonly servers: readonly LiveServer[];
}

export interface Readiness {
  readonly ready: boolean;
  /** Why not, or `ready`. */
  readonly reason: string;
}

/** What the admin surface reads from the running proxy when asked. */
export interface LiveState {
  pools(): readonly LivePool[];
  /** Client requests the proxy is handling now. */
  requestsInFlight(): number;
  readiness(): Readiness;
  /** The configured `[route:NAME]` names, in file order (as the last reload left them). */
  routes?(): readonly string[];
}
