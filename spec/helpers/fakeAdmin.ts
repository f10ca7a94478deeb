import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The admin listener's headers for the dashboard, so a policy violation shows in tests. */
export const DASHBOARD_CSP =
  "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' data:";

const COOKIE = 'fake_admin=yes';

export interface FakeAdminOptions {
  readonly page: string;
  /** The `/status` document; called for every request. */
  readonly status: () => unknown;
  /** With a token, `/?token=` must carry it once; it sets a cookie that status and events need. */
  readonly token?: string;
}

/**
 * A stand-in for the admin listener: serves the dashboard at `/`, a changing `/status` and an
 * `/events` stream that the test writes to.
 */
export class FakeAdmin {
  private readonly server = createServer((req, res) => this.route(req, res));
  private readonly streams = new Set<ServerResponse>();
  private held: (() => void)[] | undefined;
  /** Whether `/events` answers 503 instead of a stream. */
  refuseEvents = false;
  /** `/status` documents sent. */
  statusAnswers = 0;
  readonly eventQueries: string[] = [];
  url = '';

  constructor(private readonly options: FakeAdminOptions) {}

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/`;
    return this.url;
  }

  get openStreams(): number {
    return this.streams.size;
  }

  /** Sends one event to every open `/events` stream, with the time it was sent. */
  push(event: object, time = new Date()): void {
    const frame = `data: ${JSON.stringify({ ...event, time: time.toISOString() })}\n\n`;
    for (const res of this.streams) res.write(frame);
  }

  /** Ends every open `/events` stream. */
  dropEvents(): void {
    for (const res of this.streams) res.destroy();
    this.streams.clear();
  }

  /** `/status` requests wait from now until release(). */
  hold(): void {
    this.held ??= [];
  }

  release(): void {
    const waiting = this.held ?? [];
    this.held = undefined;
    waiting.forEach((answer) => answer());
  }

  async close(): Promise<void> {
    this.release();
    this.dropEvents();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private route(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://admin');
    const token = this.options.token;
    const signedIn = token === undefined || (req.headers.cookie ?? '').includes(COOKIE);
    if (url.pathname === '/') {
      const headers: Record<string, string> = {
        'content-type': 'text/html; charset=utf-8',
        'content-security-policy': DASHBOARD_CSP,
      };
      if (token !== undefined && url.searchParams.get('token') === token) {
        headers['set-cookie'] = `${COOKIE}; Path=/; HttpOnly; SameSite=Strict`;
      }
      res.writeHead(200, headers).end(this.options.page);
    } else if (!signedIn) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"unauthorized"}');
    } else if (url.pathname === '/status') {
      const answer = () => {
        this.statusAnswers++;
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        res.end(JSON.stringify(this.options.status()));
      };
      if (this.held) this.held.push(answer);
      else answer();
    } else if (url.pathname === '/events') {
      this.eventQueries.push(url.search);
      if (this.refuseEvents) {
        res.writeHead(503).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
      res.write(': fake events\n\n');
      this.streams.add(res);
      res.on('close', () => this.streams.delete(res));
    } else {
      res.writeHead(404).end();
    }
  }
}
