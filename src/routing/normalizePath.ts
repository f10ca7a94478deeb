const UNRESERVED = /[A-Za-z0-9\-._~]/;

/** `%xx` escapes of unreserved characters decoded, the others' hex digits uppercased. */
function normalizeEscapes(path: string): string {
  if (!path.includes('%')) return path;
  return path.replace(/%([0-9A-Fa-f]{2})/g, (_escape, hex: string) => {
    const char = String.fromCharCode(parseInt(hex, 16));
    return UNRESERVED.test(char) ? char : `%${hex.toUpperCase()}`;
  });
}

/** RFC 3986 5.2.4: `.` and `..` segments resolved; `..` never climbs above the root. */
function removeDotSegments(path: string): string {
  if (!path.includes('.')) return path;
  const input = path.split('/');
  const output: string[] = [];
  for (let i = 0; i < input.length; i++) {
    const segment = input[i] ?? '';
    const last = i === input.length - 1;
    if (segment === '.' || segment === '..') {
      if (segment === '..' && output.length > 1) output.pop();
      // A trailing dot segment leaves the path ending with a slash.
      if (last) output.push('');
      continue;
    }
    output.push(segment);
  }
  const joined = output.join('/');
  return joined.startsWith('/') ? joined : `/${joined}`;
}

/**
 * A request target's path normalised as RFC 3986 section 6 describes (escapes of unreserved
 * characters decoded, then dot-segments removed), the query kept as sent. `/api/%2e%2e/admin`
 * and `/api/../admin` both become `/admin`, so a prefix cannot be slipped past.
 */
export function normalizePath(target: string): string {
  const query = target.indexOf('?');
  const path = query < 0 ? target : target.slice(0, query);
  const normalized = removeDotSegments(normalizeEscapes(path));
  return query < 0 ? normalized : normalized + target.slice(query);
}
