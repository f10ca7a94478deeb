/** A backend as the balancer sees it: a name, its effective weight and its current load. */
export interface Candidate {
  readonly name: string;
  /** Effective weight from the healthy-set snapshot; always > 0. */
  readonly weight: number;
  /** Requests in flight (queued included) or open WebSockets, right now. */
  readonly load: number;
}

export interface PickRequest {
  /** consistent-hash: the request's key; undefined when the request has none. */
  readonly hashKey?: string | undefined;
  /** Names already tried for this request (retries, full queues); never chosen again. */
  readonly excluded?: ReadonlySet<string> | undefined;
}

/**
 * Chooses one of the candidates (the healthy backends, in server order), or undefined when
 * none is left. Synchronous, no I/O, called once per request.
 */
export type Picker = <C extends Candidate>(
  candidates: readonly C[],
  request?: PickRequest,
) => C | undefined;

/** A source of uniform numbers in [0, 1), like Math.random. */
export type RandomSource = () => number;

export interface PickerOptions {
  readonly random?: RandomSource;
  /** consistent-hash only: 0 = unbounded, else the most load a backend takes, in percent of the mean. */
  readonly hashBalanceFactor?: number;
}

/** The candidates not excluded; the same array when nothing is excluded (no allocation). */
export function remaining<C extends Candidate>(
  candidates: readonly C[],
  excluded: ReadonlySet<string> | undefined,
): readonly C[] {
  if (!excluded || excluded.size === 0) return candidates;
  return candidates.filter((candidate) => !excluded.has(candidate.name));
}
