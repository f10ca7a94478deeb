/** Whether raw response headers ask for the connection to be closed after this response. */
export function asksToClose(rawHeaders: readonly Buffer[]): boolean {
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i];
    if (name?.length !== 10 || name.toString('latin1').toLowerCase() !== 'connection') continue;
    if (/(^|,)\s*close\s*(,|$)/i.test(rawHeaders[i + 1]?.toString('latin1') ?? '')) return true;
  }
  return false;
}

/** Raw trailer buffers as the [name, value] pairs that ServerResponse.addTrailers takes. */
export function trailerPairs(rawTrailers: readonly (Buffer | string)[]): [string, string][] {
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < rawTrailers.length; i += 2) {
    pairs.push([String(rawTrailers[i]), String(rawTrailers[i + 1])]);
  }
  return pairs;
}
