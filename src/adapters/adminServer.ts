import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Observable } from '../rx';
import type { AdminConfig } from '../config';
import { AdminAuth } from '../observability/adminAuth';
import type { Readiness } from '../observability/liveState';

/** What the admin listener serves; the composition root builds each part. */
export interface AdminRoutes {
  readonly readiness: () => Readiness;
  readonly status: () => unknown;
  readonly metrics: { readonly contentType: string; scrape(): Promise<string> };
  /** Server-sent-event frames of the events whose types are named (all when undefined). */
  readonly feed: (query: string | null) => Observable<string> | { readonly unknown: string[] };
  readonly dashboard: string;
  readonly onError: (message: string) => void;
  /** Re-reads and applies the configuration file; undefined when there is no file to read. */
  readonly reload?: () => Promise<ReloadAnswer>;
  /** Drains, enables or reweights a server. */
  readonly control: (pool: string, server: string, command: ServerCommandRequest) => string;
  /** `GET /routes` and `GET /routes/match?host=&path=`. */
  readonly routing: {
    list(): unknown;
    match(host: string | undefined, path: string): unknown;
  };
}

export type ReloadAnswer =
  | { readonly ok: true; readonly summary: string }
  | { readonly ok: false; readonly problems: readonly string[] };

export type ServerCommandRequest =
  { readonly action: 'drain' | 'enable' } | { readonly action: 'weight'; readonly weight: number };

/** `/pools/{pool}/servers/{server}/{action}`. */
const SERVER_CONTROL = /^\/pools\/([^/]+)\/servers\/([^/]+)\/(drain|enable|weight)$/;
const MAX_WEIGHT = 10_000;

export interface AdminServer {
  listen(): Promise<AddressInfo>;
  readonly address: AddressInfo | undefined;
  /** Ends event streams, stops accepting and closes every connection. */
  close(): Promise<void>;
}

/** A slow /events reader is dropped once this much is waiting for it. */
export const EVENT_STREAM_MAX_BUFFER = 1024 * 1024;
/** A comment line this often keeps idle event streams open through other proxies. */
const EVENT_STREAM_HEARTBEAT_MS = 15_000;
const PUBLIC_PATHS = new Set(['/livez', '/readyz']);
const GET_PATHS = new Set([
  '/',
  '/livez',
  '/readyz',
  '/status',
  '/metrics',
  '/events',
  '/routes',
  '/routes/match',
]);

function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** The methods a path answers, or undefined for an unknown path. */
function methodsOf(path: string): string | undefined {
  if (GET_PATHS.has(path)) return 'GET, HEAD';
  if (path === '/reload' || SERVER_CONTROL.test(path)) return 'POST';
  return undefined;
}

function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}

/**
 * The admin listener: /livez, /readyz, /status, /metrics, /events and the dashboard at /. A
 * separate server from the front door, so client traffic never reaches it.
 */
export function createAdminServer(config: AdminConfig, routes: AdminRoutes): AdminServer {
  const auth = config.token === undefined ? undefined : new AdminAuth(config.token);
  const streams = new Set<() => void>();
  const server = createServer({ requestTimeout: 30_000, headersTimeout: 10_000 });
  let address: AddressInfo | undefined;

  function streamEvents(res: ServerResponse, query: string | null): void {
    const feed = routes.feed(query);
    if ('unknown' in feed) {
      json(res, 400, { error: `unknown event type: ${feed.unknown.join(', ')}` });
      return;
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
    });
    res.write(': rxproxy events\n\n');
    const heartbeat = setInterval(() => res.write(': ping\n\n'), EVENT_STREAM_HEARTBEAT_MS);
    const subscription = feed.subscribe({
      next: (frame) => {
        if (res.writableLength > EVENT_STREAM_MAX_BUFFER) {
          routes.onError('an /events reader fell behind and was dropped');
          res.destroy();
          return;
        }
        res.write(frame);
      },
      complete: () => res.end(),
      error: () => res.destroy(),
    });
    const end = () => {
      clearInterval(heartbeat);
      subscription.unsubscribe();
      streams.delete(end);
      if (!res.writableEnded) res.end();
    };
    streams.add(end);
    res.on('close', end);
  }

  function serveDashboard(res: ServerResponse, url: URL, secure: boolean): void {
    const headers: Record<string, string> = {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'content-security-policy':
        "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' data:",
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
    };
    if (auth && url.searchParams.has('token')) headers['set-cookie'] = auth.setCookie(secure);
    res.writeHead(200, headers);
    res.end(routes.dashboard);
  }

  async function reloadNow(res: ServerResponse): Promise<void> {
    if (!routes.reload) {
      json(res, 501, { error: 'no configuration file to reload' });
      return;
    }
    const answer = await routes.reload();
    if (answer.ok) json(res, 200, { status: 'applied', changes: answer.summary });
    else json(res, 422, { error: 'configuration rejected', problems: answer.problems });
  }

  function controlServer(res: ServerResponse, url: URL): void {
    const [, pool = '', server = '', action = ''] = SERVER_CONTROL.exec(url.pathname) ?? [];
    let command: ServerCommandRequest;
    if (action === 'weight') {
      const text = url.searchParams.get('value') ?? '';
      const weight = /^\d+$/.test(text) ? Number(text) : Number.NaN;
      if (!(weight >= 1 && weight <= MAX_WEIGHT)) {
        json(res, 400, { error: `value must be a whole number from 1 to ${MAX_WEIGHT}` });
        return;
      }
      command = { action, weight };
    } else {
      command = { action: action === 'drain' ? 'drain' : 'enable' };
    }
    const result = routes.control(decoded(pool), decoded(server), command);
    if (result === 'ok') json(res, 200, { status: 'ok', pool, server, ...command });
    else json(res, 404, { error: result });
  }

  function authorised(req: IncomingMessage, url: URL): boolean {
    if (!auth || PUBLIC_PATHS.has(url.pathname)) return true;
    if (url.pathname === '/' && auth.matches(url.searchParams.get('token') ?? undefined))
      return true;
    return auth.allows(req.headers.authorization, req.headers.cookie);
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://admin');
    } catch {
      json(res, 400, { error: 'bad request' });
      return;
    }
    const allowed = methodsOf(url.pathname);
    if (allowed === undefined) {
      json(res, 404, { error: 'not found' });
      return;
    }
    if (!allowed.split(', ').includes(req.method ?? '')) {
      json(res, 405, { error: 'method not allowed' }, { allow: allowed });
      return;
    }
    if (!authorised(req, url)) {
      json(res, 401, { error: 'unauthorized' }, { 'www-authenticate': 'Bearer realm="rxproxy"' });
      return;
    }
    if (req.method === 'POST') {
      req.resume();
      await (url.pathname === '/reload' ? reloadNow(res) : controlServer(res, url));
      return;
    }
    switch (url.pathname) {
      case '/livez':
        json(res, 200, { status: 'ok' });
        return;
      case '/readyz': {
        const readiness = routes.readiness();
        if (readiness.ready) json(res, 200, { status: 'ready' });
        else json(res, 503, { status: 'not ready', reason: readiness.reason });
        return;
      }
      case '/status':
        json(res, 200, routes.status());
        return;
      case '/metrics': {
        const text = await routes.metrics.scrape();
        res.writeHead(200, {
          'content-type': routes.metrics.contentType,
          'cache-control': 'no-store',
        });
        res.end(text);
        return;
      }
      case '/events':
        streamEvents(res, url.searchParams.get('type'));
        return;
      case '/routes':
        json(res, 200, routes.routing.list());
        return;
      case '/routes/match':
        json(
          res,
          200,
          routes.routing.match(
            url.searchParams.get('host') ?? undefined,
            url.searchParams.get('path') ?? '/',
          ),
        );
        return;
      default:
        serveDashboard(res, url, false);
    }
  }

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    res.on('error', () => res.destroy());
    route(req, res).catch((error: unknown) => {
      routes.onError(
        `admin ${req.url ?? ''}: ${error instanceof Error ? error.message : String(error)}`,
      );
      if (!res.headersSent) json(res, 500, { error: 'internal error' });
      else res.destroy();
    });
  });
  server.on('clientError', (_error, socket) => {
    if (socket.writable)
      socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    else socket.destroy();
  });

  return {
    get address() {
      return address;
    },
    listen: () =>
      new Promise<AddressInfo>((resolve, reject) => {
        const onError = (error: Error) => reject(error);
        server.once('error', onError);
        server.listen(config.port ?? 0, config.host, () => {
          server.off('error', onError);
          server.on('error', (error) => routes.onError(`admin listener: ${error.message}`));
          address = server.address() as AddressInfo;
          resolve(address);
        });
      }),
    close: async () => {
      for (const end of [...streams]) end();
      if (!server.listening) return;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
