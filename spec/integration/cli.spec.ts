import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { request } from 'undici';
import { describeListenError, main } from '../../src/cli';
import type { ProxyEvent } from '../../src/events';
import { createProxy } from '../../src/proxy';
import { startBackend, unusedPort, type TestBackend } from '../helpers/backend';
import { runCli } from '../helpers/process';
import { configFromIni } from '../helpers/proxy';

const fixture = (name: string) => join(__dirname, '..', 'fixtures', name);

/** A plain TCP server holding a loopback port, so that the proxy cannot listen on it. */
async function occupyPort(): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => socket.destroy());
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

const closeServer = (server: Server) =>
  new Promise<void>((resolve) => server.close(() => resolve()));

const listenError = (code: string, message = `listen ${code}`) =>
  Object.assign(new Error(message), { code });

async function runMain(args: string[], env: NodeJS.ProcessEnv = {}) {
  let out = '';
  let err = '';
  const code = await main(args, {
    out: (text) => (out += text),
    err: (text) => (err += text),
    env,
  });
  return { code, out, err };
}

describe('rxproxy CLI', () => {
  let folder: string;
  beforeAll(() => {
    folder = mkdtempSync(join(tmpdir(), 'rxproxy-cli-'));
  });
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  it('--check accepts the original README example as printed', async () => {
    const { code, out, err } = await runMain([
      '--check',
      '--config',
      fixture('original-example.ini'),
    ]);
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toContain('configuration is valid');
    expect(out).toContain('[http] random, health checks of /healthCheck every 10s, 3 server(s):');
    expect(out).toContain('server1 es1_hc:8080 workers 3-10, idle 3s, queue 20');
  });

  it('--check shows weights, hash_key and the health-check path where they matter', async () => {
    const file = join(folder, 'summary.ini');
    writeFileSync(
      file,
      [
        '[frontend]\nhost=127.0.0.1\nport=8080',
        '[http]\nalgorithm=weighted-round-robin\nenable_health_check=true',
        'health_check_path=/ready\nserver1=127.0.0.1:9001\nserver1_weight=3',
        'server2=127.0.0.1:9002\nmin_workers=1\nmax_workers=4',
        '[websocket]\nalgorithm=consistent-hash\nhash_key=header:X-User',
        'server1=127.0.0.1:9101\nserver2=127.0.0.1:9102\nserver2_weight=5\n',
      ].join('\n'),
    );
    const { code, out } = await runMain(['--check', '--config', file]);
    expect(code).toBe(0);
    expect(out.split('\n').slice(2)).toEqual([
      '[http] weighted-round-robin, health checks of /ready every 10s, 2 server(s):',
      '  server1 127.0.0.1:9001 weight 3, workers 1-4, idle 3s, queue 10',
      '  server2 127.0.0.1:9002 weight 1, workers 1-4, idle 3s, queue 10',
      '[websocket] consistent-hash (hash_key=header:x-user), no health checks, 2 server(s):',
      '  server1 127.0.0.1:9101',
      '  server2 127.0.0.1:9102',
      '',
    ]);
  });

  it('--check lists one line per problem, each naming section and key, and exits 1', async () => {
    const { code, out, err } = await runMain(['--check', '--config', fixture('many-problems.ini')]);
    expect(code).toBe(1);
    expect(out).toBe('');
    const lines = err.trim().split('\n');
    expect(lines).toHaveLength(10);
    for (const line of lines) {
      expect(line).toMatch(/^.*many-problems\.ini: \[(frontend|http)\] \w+: .+$/);
    }
  });

  it('reads the path from RXPROXY_CONFIG', async () => {
    const { code } = await runMain(['--check'], {
      RXPROXY_CONFIG: fixture('original-example.ini'),
    });
    expect(code).toBe(0);
  });

  it('says in one line what to do when the file is missing', async () => {
    const { code, err } = await runMain([], { RXPROXY_CONFIG: join(folder, 'nope.ini') });
    expect(code).toBe(1);
    expect(err.trim().split('\n')).toHaveLength(1);
    expect(err).toContain('nope.ini not found');
    expect(err).toContain('--config');
    expect(err).toContain('--demo');
  });

  it('defaults to the original Docker path', async () => {
    const { code, err } = await runMain([]);
    expect(code).toBe(1);
    expect(err).toContain('/prod/reverse-proxy-config.ini not found');
  });

  it('prints help and version, and rejects unknown flags with exit 2', async () => {
    expect(await runMain(['--help'])).toMatchObject({
      code: 0,
      out: expect.stringContaining('Usage: rxproxy') as unknown,
    });
    expect((await runMain(['--version'])).out).toMatch(/^\d+\.\d+\.\d+\n$/);
    expect(await runMain(['--bogus'])).toMatchObject({
      code: 2,
      err: expect.stringContaining('--bogus') as unknown,
    });
  });

  it('rejects an unknown LOG_LEVEL before listening', async () => {
    const { code, err } = await runMain(['--config', fixture('original-example.ini')], {
      LOG_LEVEL: 'loud',
    });
    expect(code).toBe(1);
    expect(err).toContain('LOG_LEVEL "loud"');
  });

  describe('when the frontend cannot listen', () => {
    const config = (host: string) =>
      configFromIni(`[frontend]\nhost=${host}\nport=8080\n[http]\nserver1=127.0.0.1:9\n`);

    it('names the address and the reason in plain words', () => {
      const v4 = config('127.0.0.1');
      expect(describeListenError(v4, listenError('EADDRINUSE'))).toBe(
        'cannot listen on 127.0.0.1:8080: address already in use',
      );
      expect(describeListenError(v4, listenError('EACCES'))).toBe(
        'cannot listen on 127.0.0.1:8080: permission denied',
      );
      expect(describeListenError(config('::1'), listenError('EADDRNOTAVAIL'))).toBe(
        'cannot listen on [::1]:8080: address not available',
      );
      expect(describeListenError(v4, listenError('EWHATEVER', 'something odd'))).toBe(
        'cannot listen on 127.0.0.1:8080: something odd',
      );
      const redirect = {
        ...v4,
        frontend: { ...v4.frontend, redirectHttpPort: 8081 },
      };
      expect(
        describeListenError(
          redirect,
          Object.assign(listenError('EADDRINUSE'), { listener: 'redirect' }),
        ),
      ).toBe('redirect listener: cannot listen on 127.0.0.1:8081: address already in use');
    });

    it('start() rejects with the listen error, and stop() afterwards emits nothing', async () => {
      const { server, port } = await occupyPort();
      try {
        const proxy = createProxy(
          configFromIni(`[frontend]\nhost=127.0.0.1\nport=${port}\n[http]\nserver1=127.0.0.1:9\n`),
        );
        const events: ProxyEvent[] = [];
        let completed = false;
        proxy.events$.subscribe({
          next: (event) => events.push(event),
          complete: () => (completed = true),
        });
        await expect(proxy.start()).rejects.toMatchObject({ code: 'EADDRINUSE' });
        expect(await proxy.stop()).toEqual({ drained: true, remaining: 0 });
        expect(events).toEqual([]);
        expect(completed).toBe(true);
        expect(proxy.address).toBeUndefined();
      } finally {
        await closeServer(server);
      }
    });

    // The demo case also proves its demo backends are closed: the process could not exit otherwise.
    it.each([
      [
        'with a config file',
        (port: number) => {
          const file = join(folder, 'busy.ini');
          writeFileSync(
            file,
            `[frontend]\nhost=127.0.0.1\nport=${port}\nlog_level=debug\n[http]\nserver1=127.0.0.1:9\n`,
          );
          return runCli(['--config', file]);
        },
      ],
      ['with --demo', (port: number) => runCli(['--demo'], { PORT: String(port) })],
    ])('as a process %s: one line on stderr, nothing on stdout, exit 1', async (_, run) => {
      const { server, port } = await occupyPort();
      try {
        const cli = run(port);
        expect(await cli.exited()).toBe(1);
        expect(cli.stderr()).toBe(`cannot listen on 127.0.0.1:${port}: address already in use\n`);
        expect(cli.stdout()).toBe('');
      } finally {
        await closeServer(server);
      }
    });
  });

  describe('as a process', () => {
    let backend: TestBackend;
    afterEach(async () => backend?.close());

    it('on SIGTERM finishes the request in flight, then exits 0', async () => {
      backend = await startBackend('slow', (req, res) => {
        req.resume();
        setTimeout(() => res.end('finished'), 700);
      });
      const port = await unusedPort();
      const file = join(folder, 'slow.ini');
      writeFileSync(
        file,
        `[frontend]\nhost=127.0.0.1\nport=${port}\n[http]\nserver1=${backend.address}\n`,
      );
      const proxy = runCli(['--config', file]);
      await proxy.waitFor('"event":"listening"');
      const pending = request(`http://127.0.0.1:${port}/slow`);
      await new Promise((resolve) => setTimeout(resolve, 200));
      proxy.child.kill('SIGTERM');
      const response = await pending;
      expect(response.statusCode).toBe(200);
      expect(await response.body.text()).toBe('finished');
      expect(await proxy.exited()).toBe(0);
      expect(proxy.stdout()).toContain('"event":"stopped","drained":true');
    });

    it('--demo rotates requests over three demo backends', async () => {
      const port = await unusedPort();
      const demo = runCli(['--demo'], { PORT: String(port) });
      await demo.waitFor('Press Ctrl+C to stop.');
      const names: string[] = [];
      for (let i = 0; i < 6; i++) {
        const response = await request(`http://127.0.0.1:${port}/hello?n=${i}`);
        const body = (await response.body.json()) as { backend: string; query: string };
        expect(body.query).toBe(`?n=${i}`);
        names.push(body.backend);
      }
      expect(names).toEqual(['server1', 'server2', 'server3', 'server1', 'server2', 'server3']);
      // The logs name the backends as the answers do.
      await demo.waitFor('"backend":"server3"');
      const health = await request(`http://127.0.0.1:${port}/healthCheck`);
      expect(await health.body.json()).toEqual({ status: 200 });
      demo.child.kill('SIGINT');
      expect(await demo.exited()).toBe(0);
    });

    it('--demo echoes a POSTed body, and its WebSocket one-liner works from any folder', async () => {
      const port = await unusedPort();
      const demo = runCli(['--demo'], { PORT: String(port) });
      await demo.waitFor('Press Ctrl+C to stop.');
      const echoed = await request(`http://127.0.0.1:${port}/echo`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain; charset=utf-8' },
        body: 'hi there',
      });
      expect(echoed.statusCode).toBe(200);
      expect(echoed.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(await echoed.body.text()).toBe('hi there');

      const oneLiner = demo
        .stdout()
        .split('\n')
        .find((line) => line.trimStart().startsWith('node '));
      expect(oneLiner).toBeDefined();
      const { stdout } = await promisify(execFile)('sh', ['-c', oneLiner ?? ''], {
        cwd: tmpdir(),
        env: {
          ...process.env,
          PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH}`,
        },
        timeout: 10_000,
      });
      expect(stdout).toBe('hi\n');
      demo.child.kill('SIGINT');
      expect(await demo.exited()).toBe(0);
    });

    it('on SIGTERM with shutdown_delay: /readyz turns 503 at once, requests still succeed, then it drains and exits 0', async () => {
      backend = await startBackend('plain');
      const [port, adminPort] = [await unusedPort(), await unusedPort()];
      const file = join(folder, 'delay.ini');
      writeFileSync(
        file,
        [
          '[frontend]',
          'host=127.0.0.1',
          `port=${port}`,
          'shutdown_delay=1',
          '[http]',
          `server1=${backend.address}`,
          '[admin]',
          'host=127.0.0.1',
          `port=${adminPort}`,
        ].join('\n'),
      );
      const proxy = runCli(['--config', file]);
      await proxy.waitFor('"event":"listening"');
      const readyz = async () => (await request(`http://127.0.0.1:${adminPort}/readyz`)).statusCode;
      expect(await readyz()).toBe(200);
      proxy.child.kill('SIGTERM');
      await proxy.waitFor('shutting down');
      expect(await readyz()).toBe(503);
      const during = await request(`http://127.0.0.1:${port}/during-delay`);
      expect(during.statusCode).toBe(200);
      await during.body.text();
      expect(proxy.stdout()).not.toContain('"event":"draining"');
      expect(await proxy.exited()).toBe(0);
      expect(proxy.stdout()).toContain('"event":"draining"');
      expect(backend.received.map((received) => received.url)).toContain('/during-delay');
    });
  });
});
