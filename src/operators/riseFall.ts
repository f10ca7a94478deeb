import { defer, map, type Observable, type OperatorFunction } from '../rx';

/**
 * Health-check hysteresis: `fall` failed probes in a row take a backend out, `rise` good ones
 * in a row bring it back. Emits every probe result with the resulting state, so that
 * downstream sees both transitions and per-probe data (reported load).
 */
export function riseFall<T extends { readonly up: boolean }>(
  rise: number,
  fall: number,
  initiallyHealthy = true,
): OperatorFunction<T, T & { readonly healthy: boolean }> {
  return (source: Observable<T>) =>
    defer(() => {
      let healthy = initiallyHealthy;
      let streak = 0;
      return source.pipe(
        map((result) => {
          if (result.up === healthy) {
            streak = 0;
          } else if (++streak >= (healthy ? fall : rise)) {
            healthy = !healthy;
            streak = 0;
          }
          return { ...result, healthy };
        }),
      );
    });
}
