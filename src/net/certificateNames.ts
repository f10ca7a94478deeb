/**
 * A lookup from a TLS server name (SNI) to the first entry whose names carry it: an exact name
 * (case-insensitive), else a wildcard `*.example.com`, which covers one label (`a.example.com`,
 * not `example.com` nor `a.b.example.com`). Undefined when nothing matches.
 */
export function certificateChooser<T>(
  entries: readonly { readonly hostnames: readonly string[]; readonly value: T }[],
): (servername: string) => T | undefined {
  const exact = new Map<string, T>();
  const wildcard = new Map<string, T>();
  for (const { hostnames, value } of entries) {
    for (const name of hostnames) {
      const lower = name.toLowerCase();
      const table = lower.startsWith('*.') ? wildcard : exact;
      const key = lower.startsWith('*.') ? lower.slice(2) : lower;
      if (!table.has(key)) table.set(key, value);
    }
  }
  return (servername) => {
    const name = servername.toLowerCase().replace(/\.$/, '');
    const found = exact.get(name);
    if (found !== undefined) return found;
    const dot = name.indexOf('.');
    return dot > 0 ? wildcard.get(name.slice(dot + 1)) : undefined;
  };
}
