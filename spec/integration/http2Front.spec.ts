import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  connect as connectH2,
  constants,
  type ClientHttp2Session,
  type ClientHttp2Stream,
  type IncomingHttpHeaders,
  type IncomingHttpStatusHeader,
  type OutgoingHttpHeaders,
} from 'node:http2';
import type { AddressInfo } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { promisify } from 'node:util';
import { WebSocket, type ClientOptions } from 'ws';
import { answerWithDigest } from '../helpers/backend';
import { useHarness } from '../helpers/harness';
import { eventsOf, type RunningProxy } from '../helpers/proxy';
import { CLOSE, clientFrame, closePayload, framesIn, type Frame } from '../helpers/rawWebSocket';
import { useTestCertificates } from '../helpers/testCertificates';
import { waitUntil } from '../helpers/waitUntil';
import { startWsBackend, type TestWsBackend, type WsBackendOptions } from '../helpers/wsBackend';
import { createHttp2Server, type Http2Response } from '../../src/adapters/http2Front';

const certs = useTestCertificates();
const run = promisify(execFile);

const hasCurl = spawnSync('curl', ['--version']).status === 0;
/** `it`, or `it.skip` with the reason in the title when there is no curl on the PATH. */
const curlIt = (title: string, body: () => Promise<void>) =>
  hasCurl ? it(title, body) : it.skip(`${title} (curl missing: not on the PATH)`, body);

type ResponseHeaders = IncomingHttpHeaders & IncomingHttpStatusHeader;

interface H2Answer {
  readonly status: number;
  readonly headers: ResponseHeaders;
  readonly body: Buffer;
  readonly trailers: IncomingHttpHeaders | undefined;
}

/** Everything a stream answers: head, body, trailers. */
function answerOf(stream: ClientHttp2Stream): Promise<H2Answer> {
  return new Promise((resolve, reject) => {
    let headers: ResponseHeaders = {};
    let trailers: IncomingHttpHeaders | undefined;
    const chunks: Buffer[] = [];
    stream.on('response', (head) => {
      headers = head;
    });
    stream.on('trailers', (received: IncomingHttpHeaders) => {
      trailers = received;
    });
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () =>
      resolve({
        status: Number(headers[':status']),
        headers,
        body: Buffer.concat(chunks),
        trailers,
      }),
    );
    stream.on('error', reject);
  });
}

const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');

/** `size` bytes that differ from chunk to chunk, so that a lost or doubled chunk shows. */
const patterned = (index: number, size: number) =>
  Buffer.alloc(size, `${String(index).padStart(6, '0')}:abcdefghijklmnopqrstuvwxyz\n`);

/** Writes `chunks` to `target`, waiting for 'drain' whenever it asks to. */
async function writeAll(
  target: NodeJS.WritableStream & { once(event: 'drain', listener: () => void): unknown },
  chunks: Iterable<Buffer>,
): Promise<void> {
  for (const chunk of chunks) {
    if (!target.write(chunk)) await new Promise<void>((resolve) => target.once('drain', resolve));
  }
}

function* chunksOf(count: number, size: number): Generator<Buffer> {
  for (let i = 0; i < count; i++) yield patterned(i, size);
}

describe('HTTP/2 on the TLS front door', () => {
  const harness = useHarness();
  const { backend, proxy } = harness;

  /** The proxy with a certificate for proxy.test and 127.0.0.1 and `extra` [frontend] keys. */
  const tlsProxy = (sections: string, extra = ''): Promise<RunningProxy> => {
    const leaf = certs.issue('h2door', ['proxy.test', '127.0.0.1'], 2);
    return proxy(sections, `tls_cert=${leaf.certFile}\ntls_key=${leaf.keyFile}\n${extra}`);
  };

  /** An HTTP/2 connection to the proxy, closed (destroyed) after the test. */
  const h2Session = async (running: RunningProxy): Promise<ClientHttp2Session> => {
    const session = connectH2(`https://127.0.0.1:${running.address.port}`, {
      ca: certs.ca.cert,
    });
    harness.onCleanup(() => {
      session.destroy();
    });
    session.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      session.once('remoteSettings', () => resolve());
      session.once('error', reject);
    });
    return session;
  };

  const get = (session: ClientHttp2Session, path: string, headers: OutgoingHttpHeaders = {}) =>
    answerOf(session.request({ ':path': path, ...headers }));

  /** curl's `%{http_version}` and body for `path` over `--http2` or `--http1.1`. */
  const curl = async (running: RunningProxy, version: '--http2' | '--http1.1', path: string) => {
    const port = running.address.port;
    const { stdout } = await run('curl', [
      version, '-sS', '--cacert', certs.ca.certFile, '--resolve', `proxy.test:${port}:127.0.0.1`,
      '-w', '\n%{http_version}', `https://proxy.test:${port}${path}`,
    ]); // prettier-ignore
    const newline = stdout.lastIndexOf('\n');
    return { body: stdout.slice(0, newline), version: stdout.slice(newline + 1) };
  };

  curlIt('serves curl --http2 as HTTP/2 and curl --http1.1 as HTTP/1.1 on one port', async () => {
    const app = await backend('app');
    const running = await tlsProxy(`[http]\nserver1=${app.address}\n`);
    const two = await curl(running, '--http2', '/over/h2?x=1');
    expect(two.version).toBe('2');
    expect(JSON.parse(two.body)).toEqual({ backend: 'app', url: '/over/h2?x=1' });
    const one = await curl(running, '--http1.1', '/over/h1');
    expect(one.version).toBe('1.1');
    expect(JSON.parse(one.body)).toEqual({ backend: 'app', url: '/over/h1' });
  });

  curlIt('offers only http/1.1 by ALPN with http2 = false', async () => {
    const app = await backend('app');
    const running = await tlsProxy(`[http]\nserver1=${app.address}\n`, 'http2=false\n');
    const answer = await curl(running, '--http2', '/no/h2');
    expect(answer.version).toBe('1.1');
    expect(JSON.parse(answer.body)).toEqual({ backend: 'app', url: '/no/h2' });
  });

  it('chooses h2 by ALPN, and http/1.1 with http2 = false', async () => {
    const app = await backend('app');
    const sections = `[http]\nserver1=${app.address}\n`;
    const alpn = (running: RunningProxy) =>
      new Promise<string | false>((resolve, reject) => {
        const socket = connectTls(
          {
            host: '127.0.0.1',
            port: running.address.port,
            ca: certs.ca.cert,
            ALPNProtocols: ['h2', 'http/1.1'],
          },
          () => {
            resolve(socket.alpnProtocol ?? false);
            socket.end();
          },
        );
        socket.on('error', reject);
      });
    expect(await alpn(await tlsProxy(sections))).toBe('h2');
    expect(await alpn(await tlsProxy(sections, 'http2=false\n'))).toBe('http/1.1');
  });

  it('maps the request head for the backend and drops connection headers from the response', async () => {
    const app = await backend('app', (req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, {
          'content-type': 'text/plain',
          connection: 'keep-alive',
          'keep-alive': 'timeout=5',
          'transfer-encoding': 'chunked',
          upgrade: 'h2c',
          'x-kept': 'yes',
        });
        res.end('mapped');
      });
    });
    const running = await tlsProxy(`[http]\nserver1=${app.address}\n`);
    const session = await h2Session(running);
    const answer = await get(session, '/headers', {
      ':authority': 'app.proxy.test:8443',
      cookie: ['a=1', 'b=2', 'c=3'],
      'x-custom': 'kept',
    });
    expect(answer.status).toBe(200);
    expect(answer.body.toString()).toBe('mapped');
    const seen = app.received[0];
    expect(seen?.headers.host).toBe('app.proxy.test:8443');
    expect(seen?.headers['x-forwarded-proto']).toBe('https');
    expect(seen?.headers['x-custom']).toBe('kept');
    const rawNames = (seen?.rawHeaders ?? []).filter((_, i) => i % 2 === 0);
    expect(rawNames.filter((name) => name.toLowerCase() === 'cookie')).toHaveLength(1);
    expect(rawNames.filter((name) => name.toLowerCase() === 'host')).toHaveLength(1);
    expect(seen?.headers.cookie).toBe('a=1; b=2; c=3');
    expect(rawNames.filter((name) => name.startsWith(':'))).toEqual([]);
    expect(Object.keys(seen?.headers ?? {}).filter((name) => name.startsWith(':'))).toEqual([]);
    for (const name of ['connection', 'keep-alive', 'transfer-encoding', 'upgrade']) {
      expect(answer.headers[name]).toBeUndefined();
    }
    expect(answer.headers['x-kept']).toBe('yes');
    expect(answer.headers['content-type']).toBe('text/plain');
  });

  it('answers 400 to a host header naming another authority, and takes a host that agrees', async () => {
    const app = await backend('app', (req, res) => res.end('ok'));
    const running = await tlsProxy(`[http]\nserver1=${app.address}\n`);
    const session = await h2Session(running);
    const refused = await get(session, '/x', {
      ':authority': 'app.proxy.test',
      host: 'admin.internal',
    });
    expect(refused.status).toBe(400);
    expect(JSON.parse(refused.body.toString())).toEqual({ error: 'bad request' });
    expect(app.received).toHaveLength(0);
    expect(eventsOf(running, 'client-error')).toContainEqual(
      expect.objectContaining({
        code: 'ERR_HTTP2_HOST_MISMATCH',
        http2: true,
        rejected: 'bad_request',
      }),
    );
    const agreed = await get(session, '/y', {
      ':authority': 'App.Proxy.Test',
      host: 'app.proxy.test',
    });
    expect(agreed.status).toBe(200);
    expect(app.received[0]?.headers.host).toBe('App.Proxy.Test');
  });

  it('streams an upload without content-length to the backend chunked and byte-exact', async () => {
    const app = await backend('app', answerWithDigest);
    const running = await tlsProxy(`[http]\nserver1=${app.address}\n`);
    const session = await h2Session(running);
    const count = 96;
    const size = 64 * 1024;
    const expected = createHash('sha256');
    for (const chunk of chunksOf(count, size)) expected.update(chunk);
    const stream = session.request({ ':method': 'POST', ':path': '/upload' });
    const answered = answerOf(stream);
    await writeAll(stream, chunksOf(count, size));
    stream.end();
    const answer = await answered;
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body.toString())).toEqual({
      bytes: count * size,
      sha256: expected.digest('hex'),
    });
    expect(app.received[0]?.headers['transfer-encoding']).toBe('chunked');
    expect(app.received[0]?.headers['content-length']).toBeUndefined();
  });

  it('streams a download of several MB to a client that reads slowly', async () => {
    const count = 128;
    const size = 64 * 1024;
    const app = await backend('app', (req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      void writeAll(res, chunksOf(count, size)).then(() => res.end());
    });
    const running = await tlsProxy(`[http]\nserver1=${app.address}\n`);
    const session = await h2Session(running);
    const stream = session.request({ ':path': '/download' });
    const hash = createHash('sha256');
    let received = 0;
    let sincePause = 0;
    let pauses = 0;
    const done = new Promise<void>((resolve, reject) => {
      stream.on('data', (chunk: Buffer) => {
        hash.update(chunk);
        received += chunk.length;
        sincePause += chunk.length;
        if (sincePause >= 512 * 1024) {
          sincePause = 0;
          pauses++;
          stream.pause();
          setTimeout(() => stream.resume(), 25);
        }
      });
      stream.on('end', resolve);
      stream.on('error', reject);
    });
    await done;
    const expected = createHash('sha256');
    for (const chunk of chunksOf(count, size)) expected.update(chunk);
    expect(received).toBe(count * size);
    expect(hash.digest('hex')).toBe(expected.digest('hex'));
    expect(pauses).toBeGreaterThan(10);
  });

  it("passes the backend's HTTP/1.1 trailers on as HTTP/2 trailers", async () => {
    const app = await backend('app', (req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/plain', trailer: 'x-checksum' });
      res.write('part one, ');
      res.write('part two');
      res.addTrailers({ 'x-checksum': sha256('part one, part two') });
      res.end();
    });
    const running = await tlsProxy(`[http]\nserver1=${app.address}\n`);
    const session = await h2Session(running);
    const answer = await get(session, '/trailers');
    expect(answer.status).toBe(200);
    expect(answer.body.toString()).toBe('part one, part two');
    expect(answer.trailers?.['x-checksum']).toBe(sha256('part one, part two'));
  });

  it('aborts the backend request when the client resets its stream, and reports 499', async () => {
    const closed: { url: string; finished: boolean }[] = [];
    const app = await backend('app', (req: IncomingMessage, res: ServerResponse) => {
      req.resume();
      res.on('close', () => closed.push({ url: req.url ?? '', finished: res.writableFinished }));
      if (req.url === '/silent') return;
      if (req.url === '/after') {
        res.end('after');
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first chunk\n');
      const timer = setInterval(() => res.write('more\n'), 20);
      res.on('close', () => clearInterval(timer));
    });
    const running = await tlsProxy(`[http]\nserver1=${app.address}\n`);
    const session = await h2Session(running);

    const sending = session.request({ ':path': '/sending' });
    sending.on('error', () => undefined);
    await new Promise<void>((resolve) => sending.once('data', () => resolve()));
    sending.close(constants.NGHTTP2_CANCEL);

    const silent = session.request({ ':path': '/silent' });
    silent.on('error', () => undefined);
    await waitUntil(
      () => app.received.some((seen) => seen.url === '/silent'),
      'the backend has it',
    );
    silent.close(constants.NGHTTP2_CANCEL);

    await waitUntil(() => closed.length === 2, 'both backend requests closed');
    expect(closed.map((entry) => entry.finished)).toEqual([false, false]);
    await waitUntil(() => eventsOf(running, 'request').length === 2, 'two request events');
    const statuses = eventsOf(running, 'request').map((event) => [event.url, event.status]);
    expect(statuses).toEqual(
      expect.arrayContaining([
        ['/sending', 499],
        ['/silent', 499],
      ]),
    );
    // The connection is still good for other streams.
    const after = await get(session, '/after');
    expect([after.status, after.body.toString()]).toEqual([200, 'after']);
  });

  it('resets the stream with an error when the backend fails mid-response', async () => {
    const app = await backend('app', (req, res) => {
      req.resume();
      if (req.url === '/after') {
        res.end('after');
        return;
      }
      res.writeHead(200, { 'content-length': '100' });
      res.write('partial');
      setTimeout(() => res.socket?.destroy(), 50);
    });
    const running = await tlsProxy(`[http]\nserver1=${app.address}\n`);
    const session = await h2Session(running);
    const stream = session.request({ ':path': '/cut' });
    const outcome = await answerOf(stream).then(
      (answer) => `ended cleanly after ${answer.body.length} bytes`,
      (error: NodeJS.ErrnoException) => error.code,
    );
    expect(outcome).toBe('ERR_HTTP2_STREAM_ERROR');
    expect(stream.rstCode).toBe(constants.NGHTTP2_INTERNAL_ERROR);
    await waitUntil(() => eventsOf(running, 'request').length === 1, 'the request event');
    expect(eventsOf(running, 'request')[0]).toMatchObject({ url: '/cut', status: 502 });
    expect((await get(session, '/after')).status).toBe(200);
  });

  it('answers an upload past max_body_size with 413 and ends the stream the client still sends on', async () => {
    const app = await backend('app', answerWithDigest);
    const running = await tlsProxy(`[http]\nserver1=${app.address}\n`, 'max_body_size=100000\n');
    const session = await h2Session(running);
    const stream = session.request({ ':method': 'POST', ':path': '/big' });
    const answered = answerOf(stream);
    // More than max_body_size, and never ended: the client would go on sending.
    void writeAll(stream, chunksOf(4, 64 * 1024)).catch(() => undefined);
    const answer = await answered;
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body.toString())).toEqual({ error: 'payload too large' });
    await waitUntil(() => stream.closed, 'the stream is closed');
    expect(stream.rstCode).toBe(constants.NGHTTP2_NO_ERROR);
    await waitUntil(() => eventsOf(running, 'request').length === 1, 'the request event');
    expect(eventsOf(running, 'request')[0]).toMatchObject({ url: '/big', status: 413 });
    expect(app.received).toEqual([]);
    expect(session.closed).toBe(false);
  });

  /** A WebSocket over an HTTP/2 stream (RFC 8441): the stream, its response head, its frames. */
  interface H2WebSocket {
    readonly stream: ClientHttp2Stream;
    readonly head: ResponseHeaders;
    /** Frames received so far, unmasked. */
    readonly frames: () => Frame[];
    readonly ended: () => boolean;
  }

  const openH2WebSocket = async (
    session: ClientHttp2Session,
    headers: OutgoingHttpHeaders = {},
  ): Promise<H2WebSocket> => {
    const stream = session.request(
      {
        ':method': 'CONNECT',
        ':protocol': 'websocket',
        ':path': '/chat',
        ':scheme': 'https',
        'sec-websocket-version': '13',
        ...headers,
      },
      { endStream: false },
    );
    const chunks: Buffer[] = [];
    let ended = false;
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => {
      ended = true;
    });
    stream.on('error', () => undefined);
    const head = await new Promise<ResponseHeaders>((resolve, reject) => {
      stream.once('response', resolve);
      stream.once('error', reject);
      stream.once('close', () => reject(new Error('stream closed before its response')));
    });
    return { stream, head, frames: () => framesIn(Buffer.concat(chunks)), ended: () => ended };
  };

  const wsBackend = async (options: WsBackendOptions = {}): Promise<TestWsBackend> => {
    const started = await startWsBackend('echo', options);
    harness.onCleanup(() => started.close());
    return started;
  };

  it('carries a WebSocket over an HTTP/2 stream by extended CONNECT (RFC 8441)', async () => {
    const echo = await wsBackend({
      handleProtocols: (protocols) => (protocols.includes('chat') ? 'chat' : false),
    });
    const running = await tlsProxy(`[websocket]\nserver1=${echo.address}\n`);
    const session = await h2Session(running);
    expect(session.remoteSettings.enableConnectProtocol).toBe(true);
    const ws = await openH2WebSocket(session, { 'sec-websocket-protocol': 'superchat, chat' });
    expect(ws.head[':status']).toBe(200);
    expect(ws.head['sec-websocket-protocol']).toBe('chat');
    expect(ws.head['sec-websocket-accept']).toBeUndefined();
    expect(echo.upgrades[0]?.protocols).toEqual(['superchat', 'chat']);
    expect(echo.upgrades[0]?.headers['x-forwarded-proto']).toBe('https');

    ws.stream.write(clientFrame(0x1, Buffer.from('hello over h2')));
    ws.stream.write(clientFrame(0x2, Buffer.from([0, 1, 2, 253, 254, 255])));
    await waitUntil(() => ws.frames().length >= 2, 'two echoes');
    const [text, binary] = ws.frames();
    expect(text).toEqual({ opcode: 0x1, payload: Buffer.from('hello over h2'), masked: false });
    expect(binary).toEqual({
      opcode: 0x2,
      payload: Buffer.from([0, 1, 2, 253, 254, 255]),
      masked: false,
    });

    ws.stream.write(clientFrame(CLOSE, closePayload(4001, 'bye')));
    await waitUntil(() => ws.frames().length >= 3, 'the close echo');
    const close = ws.frames()[2];
    expect(close?.opcode).toBe(CLOSE);
    expect(close?.payload.readUInt16BE(0)).toBe(4001);
    await waitUntil(() => eventsOf(running, 'websocket-close').length === 1, 'websocket-close');
    expect(eventsOf(running, 'websocket-close')[0]).toMatchObject({
      closedBy: 'client',
      code: 4001,
      reason: 'bye',
      clientToBackend: { messages: 2 },
      backendToClient: { messages: 2 },
    });
    await waitUntil(() => ws.ended() || ws.stream.closed, 'the stream ends');
  });

  it('answers a CONNECT without :protocol with 405', async () => {
    const app = await backend('app');
    const running = await tlsProxy(`[http]\nserver1=${app.address}\n`);
    const session = await h2Session(running);
    const answer = await answerOf(
      session.request({ ':method': 'CONNECT', ':authority': 'elsewhere.test:443' }),
    );
    expect(answer.status).toBe(405);
    expect(JSON.parse(answer.body.toString())).toEqual({ error: 'method not allowed' });
    expect(app.received).toEqual([]);
  });

  it("answers an extended CONNECT with the backend's refusal", async () => {
    const refusing = await wsBackend({
      reject: {
        status: 403,
        statusText: 'Forbidden',
        headers: [['content-type', 'text/plain']],
        body: 'not you',
      },
    });
    const running = await tlsProxy(`[websocket]\nserver1=${refusing.address}\n`);
    const session = await h2Session(running);
    const ws = await openH2WebSocket(session);
    expect(ws.head[':status']).toBe(403);
    expect(ws.head.connection).toBeUndefined();
    expect(refusing.upgrades).toHaveLength(1);
    await waitUntil(() => ws.stream.closed, 'the stream is closed');
    // The session lives on.
    expect(session.closed).toBe(false);
  });

  it('still carries an HTTP/1.1 wss:// WebSocket with http2 on', async () => {
    const echo = await wsBackend();
    const running = await tlsProxy(`[websocket]\nserver1=${echo.address}\n`);
    // ws hands its options to tls.connect, which takes the SNI name.
    const options: ClientOptions & { servername: string } = {
      ca: certs.ca.cert,
      servername: 'proxy.test',
    };
    const client = new WebSocket(`wss://127.0.0.1:${running.address.port}/chat`, options);
    harness.onCleanup(() => client.terminate());
    const reply = await new Promise<string>((resolve, reject) => {
      client.once('open', () => client.send('hello over h1'));
      client.once('message', (data) => resolve((data as Buffer).toString()));
      client.once('error', reject);
    });
    expect(reply).toBe('hello over h1');
    client.close(1000);
    await waitUntil(() => eventsOf(running, 'websocket-close').length === 1, 'websocket-close');
    expect(eventsOf(running, 'websocket-close')[0]).toMatchObject({ code: 1000 });
  });

  it('completes a stream in flight when stopped, sends GOAWAY, and takes no new stream', async () => {
    const app = await backend('app', (req, res) => {
      req.resume();
      const timer = setTimeout(() => res.end(`done ${req.url ?? ''}`), 400);
      res.on('close', () => clearTimeout(timer));
    });
    const running = await tlsProxy(`[http]\nserver1=${app.address}\n`);
    const session = await h2Session(running);
    let goaway: number | undefined;
    session.on('goaway', (code: number) => {
      goaway = code;
    });
    const inFlight = get(session, '/slow');
    await waitUntil(() => app.received.length === 1, 'the backend has it');
    const stopped = running.stop();
    await waitUntil(() => goaway !== undefined, 'a GOAWAY');
    expect(goaway).toBe(constants.NGHTTP2_NO_ERROR);
    const late = await new Promise<string>((resolve) => {
      const timer = setTimeout(() => resolve('hung'), 3000);
      const settle = (outcome: string) => {
        clearTimeout(timer);
        resolve(outcome);
      };
      try {
        const stream = session.request({ ':path': '/late' });
        stream.on('response', () => settle('answered'));
        stream.on('error', (error: NodeJS.ErrnoException) => settle(error.code ?? 'error'));
        stream.on('close', () => settle('closed'));
      } catch (error) {
        settle((error as NodeJS.ErrnoException).code ?? 'thrown');
      }
    });
    expect(late).not.toBe('answered');
    expect(late).not.toBe('hung');
    const answer = await inFlight;
    expect(answer.status).toBe(200);
    expect(answer.body.toString()).toBe('done /slow');
    await stopped;
    expect(app.received.map((seen) => seen.url)).toEqual(['/slow']);
    expect(eventsOf(running, 'stopped')[0]).toMatchObject({ drained: true });
  });

  it('closes a connection idle for its timeout, also after a stream that outlived one', async () => {
    const leaf = certs.issue('h2idle', ['127.0.0.1'], 2);
    const { server } = createHttp2Server(
      { key: leaf.key, cert: leaf.cert },
      { maxConcurrentStreams: 8, idleTimeoutMs: 150, onSessionError: () => undefined },
    );
    server.on('request', (_req: unknown, res: Http2Response) => {
      setTimeout(() => res.end('late'), 400);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    harness.onCleanup(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const { port } = server.address() as AddressInfo;
    const session = connectH2(`https://127.0.0.1:${port}`, { ca: certs.ca.cert });
    harness.onCleanup(() => {
      session.destroy();
    });
    const answer = await get(session, '/outlives-the-timeout');
    expect(answer.body.toString()).toBe('late');
    expect(session.closed).toBe(false);
    await waitUntil(() => session.closed, 'the idle connection is closed', 2000);
  });

  it('serves 200 concurrent streams on one connection that advertises 128', async () => {
    const app = await backend('app', (req, res) => {
      req.resume();
      const timer = setTimeout(() => res.end(req.url), 30);
      res.on('close', () => clearTimeout(timer));
    });
    const running = await tlsProxy(`[http]\nserver1=${app.address}\nmax_workers=32\n`);
    const session = await h2Session(running);
    expect(session.remoteSettings.maxConcurrentStreams).toBe(128);
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, i) => get(session, `/many/${i}`)),
    );
    expect(answers.map((answer) => answer.status)).toEqual(Array(200).fill(200));
    expect(answers.map((answer) => answer.body.toString())).toEqual(
      Array.from({ length: 200 }, (_, i) => `/many/${i}`),
    );
  });
});
