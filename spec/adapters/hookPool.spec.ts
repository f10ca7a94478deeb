import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { map, type OperatorFunction } from 'rxjs';
import { WebSocket } from 'ws';
import {
  HttpExchange,
  type ExchangeContext,
  type ExchangeOutcome,
} from '../../src/adapters/httpExchange';
import type { ExchangeHooks } from '../../src/adapters/hookRunner';
import { MemoryBudget } from '../../src/adapters/requestBody';
import type { UpstreamHandler, UpstreamRequest } from '../../src/adapters/http1Connection';
import type { UpstreamWorker } from '../../src/adapters/upstreamWorker';
import type { WorkerPool, WorkerRequest } from '../../src/adapters/workerPool';
import { WsBackend, WsProxy } from '../../src/adapters/wsProxy';
import { parseConfigText } from '../../src/adapters/configFile';
import { exchangeHooks } from '../../src/composeHooks';
import type { PoolConfig } from '../../src/config';
import type { ProxyEvent } from '../../src/events';
import type { ProxyReply, ProxyRequest } from '../../src/hooks/types';
import { rawExchange } from '../helpers/backend';
import { expectConfig } from '../helpers/configResult';
import { waitUntil } from '../helpers/waitUntil';
import { startWsBackend, type TestWsBackend } from '../helpers/wsBackend';

const config = expectConfig(
  parseConfigText(
    '[frontend]\nhost=127.0.0.1\nport=8080\n[http]\nserver1=127.0.0.1:1\n[websocket]\nserver1=127.0.0.1:1\n',
    'inline.ini',
  ),
);
const httpPool = config.http as PoolConfig;
const wsPool = config.websocket as PoolConfig;

type Hook = OperatorFunction<ProxyRequest, ProxyRequest | ProxyReply>;

/** One request as a fake backend of a fake pool received it. */
interface Served {
  readonly pool: string;
  readonly backend: string;
  readonly path: string;
}

/** Hooks as the proxy composes them, with `seen` collecting what each hook run saw. */
function hooksOf(hook: (req: ProxyRequest) => void, events: ProxyEvent[]) {
  const seen: { pool: string; route: string | undefined }[] = [];
  const request: Hook = map((req: ProxyRequest) => {
    seen.push({ pool: req.pool, route: req.route });
    hook(req);
    return req;
  });
  const hooks = exchangeHooks([{ request }], { timeoutMs: 1000, emit: (e) => events.push(e) });
  return { hooks: hooks as ExchangeHooks, seen };
}

/**
 * An HTTP pool whose backends answer at once, in process: `name/backend path`. `routeTo` is set
 * by the test when the pools know each other.
 */
class FakeHttpPool {
  readonly served: Served[] = [];
  readonly finished: ExchangeOutcome[] = [];
  readonly picks: (string | undefined)[] = [];
  readonly members: Map<string, WorkerPool>;
  routeTo: ((pool: string) => ExchangeContext | undefined) | undefined;

  constructor(
    readonly name: string,
    backends: readonly string[],
    private readonly hooks: ExchangeHooks,
  ) {
    this.members = new Map(backends.map((backend) => [backend, this.member(backend)]));
  }

  private member(backend: string): WorkerPool {
    const worker = {
      served: 0,
      dispatch: (options: UpstreamRequest, handler: UpstreamHandler) => {
        this.served.push({ pool: this.name, backend, path: options.path });
        const body = Buffer.from(`${this.name}/${backend} ${options.path}`);
        handler.onConnect(() => undefined);
        handler.onHeaders(200, ['content-length', String(body.length)], () => undefined, 'OK');
        handler.onData(body);
        handler.onComplete([], true);
      },
    } as unknown as UpstreamWorker;
    const member = {
      name: backend,
      server: { name: backend, address: '127.0.0.1:1' },
      lastConnectError: undefined,
      acquire: (request: WorkerRequest) => {
        request.runOn(worker);
        return 'running';
      },
      release: () => undefined,
      cancel: () => undefined,
    };
    return member as unknown as WorkerPool;
  }

  context(): ExchangeContext {
    const members = this.members;
    return {
      ...(this.routeTo ? { routeTo: this.routeTo } : {}),
      pool: { ...httpPool, name: this.name },
      member: (backend) => members.get(backend),
      hooks: this.hooks,
      pick: (hashKey) => {
        this.picks.push(hashKey);
        return members.values().next().value;
      },
      healthyCount: () => members.size,
      isInRotation: (backend) => members.has(backend),
      line: undefined,
      hashKeyOf: () => undefined,
      sticky: undefined,
      reportOutcome: () => undefined,
      clientAddress: (req) => req.socket.remoteAddress,
      draining: () => false,
      body: {
        bufferSize: httpPool.requestBufferSize,
        maxBodySize: 0,
        timeoutMs: 1000,
        budget: new MemoryBudget(httpPool.requestBufferTotal),
      },
      onRetry: () => undefined,
      onFinished: (outcome) => this.finished.push(outcome),
    };
  }
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

describe('request hooks choosing the pool of an HTTP request', () => {
  let server: Server;
  let port: number;
  let events: ProxyEvent[];
  let onRequest: (req: IncomingMessage, res: ServerResponse) => void;

  beforeAll(async () => {
    server = createServer((req, res) => onRequest(req, res));
    port = await listen(server);
  });
  afterAll(() => close(server));
  beforeEach(() => {
    events = [];
  });

  /** `http` (server1) and `beta` (b1, b2) pools; requests start in `http` under route `web`. */
  function pools(hook: (req: ProxyRequest) => void, known = true) {
    const { hooks, seen } = hooksOf(hook, events);
    const http = new FakeHttpPool('http', ['server1'], hooks);
    const beta = new FakeHttpPool('beta', ['b1', 'b2'], hooks);
    const contexts = new Map<string, ExchangeContext>();
    const lookups: string[] = [];
    const routeTo = (name: string) => {
      lookups.push(name);
      return contexts.get(name);
    };
    if (known) {
      http.routeTo = routeTo;
      beta.routeTo = routeTo;
    }
    contexts.set('http', http.context());
    contexts.set('beta', beta.context());
    onRequest = (req, res) =>
      new HttpExchange(req, res, contexts.get('http') as ExchangeContext, 'web').start();
    return { http, beta, seen, lookups };
  }

  const get = async (path: string) => {
    const response = await fetch(`http://127.0.0.1:${port}${path}`);
    return { status: response.status, body: await response.text() };
  };

  it('lets hooks read the pool and the route, and reports the route when the request ends', async () => {
    const { http, seen } = pools(() => undefined);
    expect(await get('/x')).toEqual({ status: 200, body: 'http/server1 /x' });
    expect(seen).toEqual([{ pool: 'http', route: 'web' }]);
    await waitUntil(() => http.finished.length === 1, 'the request finishes');
    expect(http.finished[0]).toMatchObject({ status: 200, backend: 'server1', route: 'web' });
  });

  it('sends the request to the pool a hook names, running the hooks once', async () => {
    const { http, beta, seen } = pools((req) => {
      if (req.path.startsWith('/beta')) req.pool = 'beta';
    });
    expect(await get('/beta/home')).toEqual({ status: 200, body: 'beta/b1 /beta/home' });
    expect(seen).toHaveLength(1);
    expect(http.served).toEqual([]);
    await waitUntil(() => beta.finished.length === 1, 'the request finishes in beta');
    expect(beta.finished[0]).toMatchObject({ status: 200, backend: 'b1', route: 'web' });
    expect(http.finished).toEqual([]);
    expect(await get('/other')).toEqual({ status: 200, body: 'http/server1 /other' });
  });

  it('pins a request to a backend of the new pool, and passes a hash key to its balancer', async () => {
    const { beta } = pools((req) => {
      req.pool = 'beta';
      if (req.path === '/pinned') req.backend = 'b2';
      else req.hashKey = 'user-7';
    });
    expect(await get('/pinned')).toEqual({ status: 200, body: 'beta/b2 /pinned' });
    expect(await get('/hashed')).toEqual({ status: 200, body: 'beta/b1 /hashed' });
    expect(beta.picks).toEqual(['user-7']);
  });

  it('answers a request sent to an unknown pool as a failing hook, naming the pool', async () => {
    const { http, beta } = pools((req) => {
      req.pool = 'nope';
    });
    expect(await get('/x')).toEqual({ status: 500, body: '{"error":"hook failed"}' });
    expect(events).toEqual([
      { type: 'internal-error', source: 'request hook', message: 'unknown pool "nope"' },
    ]);
    expect([...http.served, ...beta.served]).toEqual([]);
    await waitUntil(() => http.finished.length === 1, 'the request finishes');
    expect(http.finished[0]).toMatchObject({ status: 500, rejected: 'hook_failed', route: 'web' });
  });

  it('knows no other pool when the context has no routeTo', async () => {
    const { beta } = pools((req) => {
      req.pool = 'beta';
    }, false);
    expect(await get('/x')).toEqual({ status: 500, body: '{"error":"hook failed"}' });
    expect(events).toMatchObject([{ type: 'internal-error', message: 'unknown pool "beta"' }]);
    expect(beta.served).toEqual([]);
  });

  it('treats the pool the request is in as no change', async () => {
    const { http, lookups } = pools((req) => {
      req.pool = 'http';
    });
    expect(await get('/x')).toEqual({ status: 200, body: 'http/server1 /x' });
    expect(lookups).toEqual([]);
    expect(http.served).toHaveLength(1);
  });
});

describe('request hooks choosing the pool of a WebSocket handshake', () => {
  let server: Server;
  let port: number;
  let backends: Record<'ws1' | 'b1' | 'b2', TestWsBackend>;
  let proxies: WsProxy[] = [];
  let events: ProxyEvent[];
  let onUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  const clients: WebSocket[] = [];

  beforeAll(async () => {
    backends = {
      ws1: await startWsBackend('ws1'),
      b1: await startWsBackend('b1'),
      b2: await startWsBackend('b2'),
    };
    server = createServer((_req, res) => res.end());
    server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
      socket.on('error', () => undefined);
      onUpgrade(req, socket, head);
    });
    port = await listen(server);
  });
  afterAll(async () => {
    await close(server);
    await Promise.all(Object.values(backends).map((backend) => backend.close()));
  });
  beforeEach(() => {
    events = [];
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) client.terminate();
    await Promise.all(proxies.map((proxy) => proxy.closeAll(0)));
    proxies = [];
  });

  /** `websocket` (ws1) and `beta` (b1, b2) proxies; handshakes start in `websocket`, route `chat`. */
  function wsPools(hook: (req: ProxyRequest) => void) {
    const { hooks, seen } = hooksOf(hook, events);
    const named = new Map<string, WsProxy>();
    const proxyOf = (name: string | undefined, members: readonly TestWsBackend[]) => {
      const wsBackends = new Map(
        members.map((backend) => [
          backend.name,
          new WsBackend({
            ...(wsPool.servers[0] as PoolConfig['servers'][number]),
            name: backend.name,
            address: backend.address,
            port: backend.port,
          }),
        ]),
      );
      const proxy = new WsProxy({
        routeTo: (pool) => named.get(pool),
        pool: { ...wsPool, name: name ?? 'websocket' },
        pick: () => wsBackends.values().next().value,
        healthyCount: () => wsBackends.size,
        clientAddress: (req) => req.socket.remoteAddress,
        sticky: undefined,
        hashKeyOf: () => undefined,
        reportOutcome: () => undefined,
        emit: (event) => events.push(event),
        hooks,
        member: (backend) => wsBackends.get(backend),
        isInRotation: (backend) => wsBackends.has(backend),
      });
      proxies.push(proxy);
      return proxy;
    };
    const websocket = proxyOf(undefined, [backends.ws1]);
    named.set('websocket', websocket);
    named.set('beta', proxyOf('beta', [backends.b1, backends.b2]));
    onUpgrade = (req, socket, head) => websocket.handleUpgrade(req, socket, head, 'chat');
    return { seen };
  }

  const open = async (path: string) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`);
    clients.push(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return ws;
  };
  const upgradesOf = (name: 'ws1' | 'b1' | 'b2') => backends[name].upgrades.map((u) => u.url);

  it('hands the handshake to the pool a hook names, running the hooks once', async () => {
    const before = { ws1: upgradesOf('ws1').length, b1: upgradesOf('b1').length };
    const { seen } = wsPools((req) => {
      if (req.path.startsWith('/beta')) req.pool = 'beta';
    });
    await open('/beta/socket');
    expect(seen).toEqual([{ pool: 'websocket', route: 'chat' }]);
    expect(upgradesOf('b1').slice(before.b1)).toEqual(['/beta/socket']);
    expect(upgradesOf('ws1').length).toBe(before.ws1);
    expect(events).toMatchObject([
      { type: 'websocket-open', pool: 'beta', backend: 'b1', url: '/beta/socket', route: 'chat' },
    ]);
    await open('/plain');
    expect(upgradesOf('ws1').slice(before.ws1)).toEqual(['/plain']);
    expect(events[1]).toMatchObject({ type: 'websocket-open', pool: 'websocket', route: 'chat' });
  });

  it('pins the handshake to a backend of the new pool', async () => {
    const before = upgradesOf('b2').length;
    wsPools((req) => {
      req.pool = 'beta';
      req.backend = 'b2';
    });
    await open('/pinned');
    expect(upgradesOf('b2').slice(before)).toEqual(['/pinned']);
  });

  it('refuses a handshake sent to an unknown pool as a failing hook does', async () => {
    const before = Object.values(backends).map((backend) => backend.upgrades.length);
    wsPools((req) => {
      req.pool = 'nope';
    });
    const answer = await rawExchange(
      port,
      'GET /x HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    expect(answer).toMatch(/^HTTP\/1\.1 500 /);
    expect(answer).toContain('{"error":"hook failed"}');
    // The previous test's WebSockets may close meanwhile: only this handshake's events count.
    const own = events.filter((event) => event.type !== 'websocket-close');
    expect(own).toEqual([
      { type: 'internal-error', source: 'request hook', message: 'unknown pool "nope"' },
    ]);
    expect(Object.values(backends).map((backend) => backend.upgrades.length)).toEqual(before);
  });
});
