import { createServer as createHttpServer, request as httpRequest } from 'node:http';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { request } from 'undici';
import { map } from 'rxjs';
import type { ProxyRequest } from '../../src/hooks/types';
import { useHarness } from '../helpers/harness';
import { spawnProxyInTempFolder } from '../helpers/process';
import { iniWith, startProxy } from '../helpers/proxy';
import { sleep, waitUntil } from '../helpers/waitUntil';

/** Each connection the proxy opened, with when the proxy ended it (ms after it opened). */
interface Connection {
  endedAfterMs: number | undefined;
}

interface Recorded {
  readonly address: string;
  readonly connections: Connection[];
}

describe('upstream connections (HTTP/1.1 on a worker)', () => {
  const harness = useHarness();

  /**
   * A backend on raw sockets: `answer` writes the response to each request head (the tests send
   * GETs), `greet` may write on a connection as soon as it opens.
   */
  async function recorded(
    answer: (socket: Socket, index: number, head: string) => void,
    greet?: (socket: Socket, index: number) => void,
  ): Promise<Recorded> {
    const connections: Connection[] = [];
    const sockets = new Set<Socket>();
    const server = createServer((socket) => {
      const connection: Connection = { endedAfterMs: undefined };
      const index = connections.push(connection) - 1;
      const opened = Date.now();
      sockets.add(socket);
      socket.on('error', () => socket.destroy());
      socket.on('close', () => sockets.delete(socket));
      socket.on('end', () => {
        connection.endedAfterMs = Date.now() - opened;
      });
      let pending = '';
      socket.on('data', (chunk: Buffer) => {
        pending += chunk.toString('latin1');
        for (let end = pending.indexOf('\r\n\r\n'); end >= 0; end = pending.indexOf('\r\n\r\n')) {
          const head = pending.slice(0, end);
          pending = pending.slice(end + 4);
          answer(socket, index, head);
        }
      });
      greet?.(socket, index);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    harness.onCleanup(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          for (const socket of sockets) socket.destroy();
        }),
    );
    return { address: `127.0.0.1:${(server.address() as AddressInfo).port}`, connections };
  }

  async function proxyTo(backend: Recorded, minWorkers = 0): Promise<string> {
    const running = await harness.proxy(
      `[http]\nserver1=${backend.address}\nmin_workers=${minWorkers}\nmax_workers=1\n` +
        `retries=0\npassive_health_check=false\n`,
    );
    return running.url;
  }

  async function get(url: string): Promise<{ status: number; body: string }> {
    const response = await request(url, { dispatcher: harness.client });
    return { status: response.statusCode, body: await response.body.text() };
  }

  it("closes an idle connection before the backend's Keep-Alive timeout does, and then opens a fresh one", async () => {
    const backend = await recorded((socket) =>
      socket.write('HTTP/1.1 200 OK\r\nKeep-Alive: timeout=3\r\ncontent-length: 2\r\n\r\nok'),
    );
    const url = await proxyTo(backend);
    expect(await get(`${url}/one`)).toEqual({ status: 200, body: 'ok' });
    // timeout=3 less the 2 s margin: the proxy ends the connection after about 1 s idle.
    await waitUntil(
      () => backend.connections[0]?.endedAfterMs !== undefined,
      'the proxy closed it',
      2800,
    );
    expect(backend.connections[0]?.endedAfterMs).toBeLessThan(2800);
    expect(await get(`${url}/two`)).toEqual({ status: 200, body: 'ok' });
    expect(backend.connections).toHaveLength(2);
  });

  it('does not reuse a connection whose Keep-Alive timeout is shorter than the margin', async () => {
    const backend = await recorded((socket) =>
      socket.write('HTTP/1.1 200 OK\r\nKeep-Alive: timeout=1\r\ncontent-length: 2\r\n\r\nok'),
    );
    const url = await proxyTo(backend);
    for (const path of ['/a', '/b', '/c']) {
      expect(await get(`${url}${path}`)).toEqual({ status: 200, body: 'ok' });
    }
    expect(backend.connections).toHaveLength(3);
  });

  it('never hands bytes past the end of a response to the next request', async () => {
    const backend = await recorded((socket, index) =>
      socket.write(
        index === 0
          ? 'HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nfirst' +
              'HTTP/1.1 200 OK\r\ncontent-length: 8\r\n\r\nsmuggled'
          : 'HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nfresh',
      ),
    );
    const url = await proxyTo(backend);
    expect(await get(`${url}/one`)).toEqual({ status: 200, body: 'first' });
    expect(await get(`${url}/two`)).toEqual({ status: 200, body: 'fresh' });
    expect(backend.connections).toHaveLength(2);
  });

  it('closes a connection on which the backend spoke before it was asked', async () => {
    const backend = await recorded(
      (socket, index) => socket.write(`HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\n${index}`),
      (socket, index) => {
        if (index === 0) socket.write('HTTP/1.1 200 OK\r\ncontent-length: 7\r\n\r\nunasked');
      },
    );
    const url = await proxyTo(backend, 1);
    await waitUntil(
      () => backend.connections[0]?.endedAfterMs !== undefined,
      'the proxy closed it',
    );
    expect(await get(`${url}/one`)).toEqual({ status: 200, body: '1' });
  });

  it('reads past interim 1xx responses to the final one', async () => {
    const backend = await recorded((socket) =>
      socket.write(
        'HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n' +
          'HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nfinal',
      ),
    );
    const url = await proxyTo(backend);
    expect(await get(`${url}/hints`)).toEqual({ status: 200, body: 'final' });
  });

  it('relays an HTTP/1.0 body that ends when the backend closes, then opens a fresh connection', async () => {
    const backend = await recorded((socket) => {
      socket.write('HTTP/1.0 200 OK\r\ncontent-type: text/plain\r\n\r\nuntil ');
      setTimeout(() => socket.end('close'), 50);
    });
    const url = await proxyTo(backend);
    expect(await get(`${url}/one`)).toEqual({ status: 200, body: 'until close' });
    expect(await get(`${url}/two`)).toEqual({ status: 200, body: 'until close' });
    expect(backend.connections).toHaveLength(2);
  });

  it.each([
    ['a header value with CRLF', (req: ProxyRequest) => (req.headers['x-note'] = 'a\r\nx-evil: 1')],
    ['a header name with a space', (req: ProxyRequest) => (req.headers['x bad'] = '1')],
    ['a path with a space', (req: ProxyRequest) => (req.url = '/a b')],
  ])('answers 400, sending nothing, when a request hook leaves %s', async (_what, change) => {
    const heads: string[] = [];
    const backend = await recorded((socket, _index, head) => {
      heads.push(head.split('\r\n')[0] ?? '');
      socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
    });
    const proxy = await startProxy(
      iniWith(`[http]\nserver1=${backend.address}\nmin_workers=1\nmax_workers=1\n`),
      {
        hooks: {
          request: map((req: ProxyRequest) => {
            if (req.path === '/hooked') change(req);
            return req;
          }),
        },
      },
    );
    harness.onCleanup(() => proxy.stop());
    expect((await get(`${proxy.url}/hooked`)).status).toBe(400);
    expect(await get(`${proxy.url}/plain`)).toEqual({ status: 200, body: 'ok' });
    expect(heads).toEqual(['GET /plain HTTP/1.1']);
  });

  // Requests from the HTTP/1.1 front door skip the upstream connection's own checks of method,
  // target and headers: Node's parser must refuse each of these first.
  it.each([
    ['a control character in a header value', 'GET / HTTP/1.1\r\nHost: a\r\nX: a\x01b\r\n\r\n'],
    ['DEL in a header value', 'GET / HTTP/1.1\r\nHost: a\r\nX: a\x7fb\r\n\r\n'],
    ['a bare CR in a header value', 'GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n'],
    ['a separator in a header name', 'GET / HTTP/1.1\r\nHost: a\r\nX@y: 1\r\n\r\n'],
    ['a space in a header name', 'GET / HTTP/1.1\r\nHost: a\r\nX y: 1\r\n\r\n'],
    ['a control character in the target', 'GET /a\x01b HTTP/1.1\r\nHost: a\r\n\r\n'],
    ['a tab in the target', 'GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n'],
    ['a byte above 0x7e in the target', 'GET /a\xe9b HTTP/1.1\r\nHost: a\r\n\r\n'],
    ['a separator in the method', 'G{T / HTTP/1.1\r\nHost: a\r\n\r\n'],
  ])('answers 400 at the front door, sending nothing, to a request with %s', async (_what, raw) => {
    const heads: string[] = [];
    const backend = await recorded((socket, _index, head) => {
      heads.push(head);
      socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
    });
    const url = new URL(await proxyTo(backend, 1));
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname, () =>
        socket.end(Buffer.from(raw, 'latin1')),
      );
      let received = '';
      socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
      socket.on('close', () => resolve(received));
      socket.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(heads).toEqual([]);
  });

  it('checks the request head itself when Node parses leniently (--insecure-http-parser)', async () => {
    const heads: string[] = [];
    const backend = await recorded((socket, _index, head) => {
      heads.push(head.split('\r\n')[0] ?? '');
      socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
    });
    const { port } = await spawnProxyInTempFolder(
      harness.onCleanup,
      `[http]\nserver1=${backend.address}\nmin_workers=1\nmax_workers=1\nretries=0\n`,
      { NODE_OPTIONS: '--insecure-http-parser' },
    );
    const send = (raw: string) =>
      new Promise<string>((resolve, reject) => {
        // Written, not ended: a client's FIN before the answer counts as leaving (499).
        const socket = connect(port, '127.0.0.1', () => socket.write(Buffer.from(raw, 'latin1')));
        let received = '';
        socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
        socket.on('close', () => resolve(received));
        socket.on('error', reject);
      });
    // Node's lenient parser lets the control character through; the proxy must not send it on.
    expect(
      await send('GET /bad HTTP/1.1\r\nHost: a\r\nConnection: close\r\nX: a\x01b\r\n\r\n'),
    ).toMatch(/^HTTP\/1\.1 400 /);
    expect(await send('GET /good HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n')).toMatch(
      /^HTTP\/1\.1 200 /,
    );
    expect(heads).toEqual(['GET /good HTTP/1.1']);
  });

  it('does not time the backend while the client is still sending a streamed body', async () => {
    const backend = createHttpServer((req, res) => {
      let length = 0;
      req.on('data', (chunk: Buffer) => (length += chunk.length));
      req.on('end', () => res.end(`got ${length}`));
    });
    await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
    harness.onCleanup(() => new Promise<void>((resolve) => backend.close(() => resolve())));
    const { port } = backend.address() as AddressInfo;
    const proxy = await harness.proxy(
      `[http]\nserver1=127.0.0.1:${port}\nrequest_buffer_size=0\nresponse_timeout=300ms\n`,
    );
    // Three pieces 500 ms apart: each gap is longer than response_timeout.
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(`${proxy.url}/upload`, { method: 'POST' }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      void (async () => {
        for (let piece = 0; piece < 3; piece++) {
          req.write(Buffer.alloc(1000, 1));
          await sleep(500);
        }
        req.end();
      })();
    });
    expect(answer).toEqual({ status: 200, body: 'got 3000' });
  });
});
