/** A backend that may be refusing connections right now. */
export interface MaybeReachable {
  readonly name: string;
  /** Connections to it fail and none is open. */
  readonly unreachable: boolean;
}

/**
 * The backend a key belongs to: its owner as `pick` chooses it, or, while that owner cannot be
 * reached, the next node `pick` gives when the owner is left out too (for consistent-hash, the
 * next node on the ring).
 */
export function keyOwner<M extends MaybeReachable>(
  pick: (excluded: ReadonlySet<string> | undefined) => M | undefined,
  excluded: ReadonlySet<string> | undefined,
): M | undefined {
  let skip = excluded;
  for (;;) {
    const owner = pick(skip);
    if (!owner?.unreachable) return owner;
    skip = new Set(skip).add(owner.name);
  }
}
