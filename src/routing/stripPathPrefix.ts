/**
 * `path` without the route's `prefix` (whole segments, query kept): `/api/users?x=1` with `/api`
 * becomes `/users?x=1`, `/api` becomes `/`.
 */
export function stripPathPrefix(path: string, prefix: string): string {
  if (prefix === '/' || !path.startsWith(prefix)) return path;
  const rest = path.slice(prefix.length);
  if (rest === '') return '/';
  if (rest.startsWith('/')) return rest;
  return rest.startsWith('?') ? `/${rest}` : path;
}
