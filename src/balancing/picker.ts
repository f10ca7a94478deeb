/** Chooses one of the candidates, or undefined when there are none. Synchronous, no I/O. */
export type Picker = <T>(candidates: readonly T[]) => T | undefined;

/** A source of uniform numbers in [0, 1), like Math.random. */
export type RandomSource = () => number;
