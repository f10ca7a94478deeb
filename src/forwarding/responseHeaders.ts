/** Raw trailer buffers as the [name, value] pairs that ServerResponse.addTrailers takes. */
export function trailerPairs(rawTrailers: readonly (Buffer | string)[]): [string, string][] {
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < rawTrailers.length; i += 2) {
    pairs.push([String(rawTrailers[i]), String(rawTrailers[i + 1])]);
  }
  return pairs;
}
