import type { IncomingMessage } from 'node:http';

/** Whether a request announces a body (a non-zero Content-Length or any Transfer-Encoding). */
export function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
}

/** The origin form (`/path?query`) of a request target, also when a client sent the absolute form. */
export function originFormPath(url: string): string {
  if (url.startsWith('/')) return url;
  try {
    const parsed = new URL(url);
    return `${parsed.pathname}${parsed.search}`;
  } catch {
    return url;
  }
}

/**
 * Whether Node was started with `--insecure-http-parser` (on its command line or in
 * NODE_OPTIONS): its HTTP/1.1 parser then lets through header bytes it otherwise refuses.
 */
export function lenientHttpParser(execArgv: readonly string[], nodeOptions = ''): boolean {
  const flag = '--insecure-http-parser';
  return execArgv.includes(flag) || nodeOptions.split(/\s+/).includes(flag);
}
