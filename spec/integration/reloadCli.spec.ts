import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { unusedPort } from '../helpers/backend';
import { startBlackhole } from '../helpers/blackhole';
import { writeConfigMapVolume } from '../helpers/configMapVolume';
import { useHarness } from '../helpers/harness';
import { logLines, runCli, type CliProcess, type LogLine } from '../helpers/process';
import { sleep, waitUntil } from '../helpers/waitUntil';

/** Longer than the watcher's 200 ms debounce, for a second reload that should not come. */
const SETTLE_MS = 800;

/** Whether a TCP connection to 127.0.0.1:`port` is accepted. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

const logged = (cli: CliProcess, event: string) =>
  logLines(cli).filter((line) => line.event === event);

describe('reload through the command line', () => {
  const harness = useHarness();
  let folder: string;
  beforeEach(() => {
    folder = mkdtempSync(join(tmpdir(), 'rxproxy-reload-'));
  });
  afterEach(() => rmSync(folder, { recursive: true, force: true }));

  /** `[frontend]` on `port` with `frontend` lines, then `sections`. */
  const configText = (port: number, sections: string, frontend = 'log_level=info') =>
    `[frontend]\nhost=127.0.0.1\nport=${port}\n${frontend}\n${sections}`;

  /** The CLI on `file`, once each of `ports` accepts connections; stopped after the test. */
  async function started(file: string, ...ports: number[]): Promise<CliProcess> {
    const cli = runCli(['--config', file]);
    harness.onCleanup(async () => {
      if (cli.child.exitCode === null) cli.child.kill('SIGTERM');
      await cli.exited();
    });
    for (const port of ports) {
      let accepting = false;
      for (let i = 0; i < 200 && !accepting && cli.child.exitCode === null; i++) {
        accepting = await accepts(port);
        if (!accepting) await sleep(25);
      }
      if (!accepting) throw new Error(`port ${port} never accepted: ${cli.stderr()}`);
    }
    return cli;
  }

  /** Waits for the `count`th `config-applied` line and returns it. */
  async function applied(cli: CliProcess, count = 1): Promise<LogLine> {
    await waitUntil(() => logged(cli, 'config-applied').length >= count, 'a reload is logged');
    return logged(cli, 'config-applied')[count - 1] ?? {};
  }

  async function get(port: number, path: string) {
    const response = await request(`http://127.0.0.1:${port}${path}`, {
      dispatcher: harness.client,
    });
    return {
      status: response.statusCode,
      headers: response.headers,
      body: await response.body.text(),
    };
  }

  /** Which backend answered a GET through the proxy on `port`. */
  const answeredBy = async (port: number, path: string) =>
    (JSON.parse((await get(port, path)).body) as { backend: string }).backend;

  it('SIGHUP reloads the file: an added server takes traffic', async () => {
    const [a, b] = [await harness.backend('a'), await harness.backend('b')];
    const port = await unusedPort();
    const file = join(folder, 'proxy.ini');
    const servers = (...lines: string[]) =>
      ['[http]', 'algorithm=round-robin', ...lines].join('\n');
    writeFileSync(file, configText(port, servers(`server1=${a.address}`)));
    const cli = await started(file, port);
    writeFileSync(file, configText(port, servers(`server1=${a.address}`, `server2=${b.address}`)));
    cli.child.kill('SIGHUP');
    expect(await applied(cli)).toMatchObject({ trigger: 'SIGHUP', summary: 'http: +server2' });
    const names = [await answeredBy(port, '/1'), await answeredBy(port, '/2')];
    expect(names.sort()).toEqual(['a', 'b']);
  });

  it('a SIGHUP while the proxy starts waits for the start, then reloads', async () => {
    const a = await harness.backend('a');
    const hole = await startBlackhole();
    harness.onCleanup(() => hole.close());
    const port = await unusedPort();
    const file = join(folder, 'proxy.ini');
    const servers = (...lines: string[]) => ['[http]', 'connect_timeout=2s', ...lines].join('\n');
    // The start waits for the first connection to each server: the blackholed one takes 2 s.
    writeFileSync(
      file,
      configText(port, servers(`server1=${a.address}`, `server2=127.0.0.1:${hole.port}`)),
    );
    const cli = await started(file, port);
    writeFileSync(file, configText(port, servers(`server1=${a.address}`)));
    cli.child.kill('SIGHUP');
    expect(await applied(cli)).toMatchObject({ trigger: 'SIGHUP', summary: 'http: -server2' });
    expect(cli.child.exitCode).toBeNull();
  });

  it('log_level applies at once', async () => {
    const a = await harness.backend('a');
    const port = await unusedPort();
    const file = join(folder, 'proxy.ini');
    writeFileSync(file, configText(port, `[http]\nserver1=${a.address}`, 'log_level=warn'));
    const cli = await started(file, port);
    expect((await get(port, '/quiet')).status).toBe(200);
    writeFileSync(file, configText(port, `[http]\nserver1=${a.address}`, 'log_level=info'));
    cli.child.kill('SIGHUP');
    expect(await applied(cli)).toMatchObject({ summary: 'frontend: log_level' });
    expect((await get(port, '/loud')).status).toBe(200);
    await waitUntil(() => logged(cli, 'request').length > 0, 'the request is logged');
    // Lines are written in order: the request before the reload would stand before it.
    expect(logged(cli, 'request').map((line) => line.url)).toEqual(['/loud']);
  });

  it.each(['hooks.js', 'hooks.mjs'])(
    'loads the hook module %s afresh on reload',
    async (moduleName) => {
      const a = await harness.backend('a');
      const port = await unusedPort();
      const file = join(folder, 'proxy.ini');
      const exported = moduleName.endsWith('.mjs') ? 'export default' : 'module.exports =';
      const hookModule = (version: string) =>
        `${exported} ({ rxjs: { map } }) => ({\n` +
        `  response: (response$) => response$.pipe(map((res) => {\n` +
        `    res.headers['x-hook-version'] = '${version}';\n    return res;\n  })),\n});\n`;
      writeFileSync(join(folder, moduleName), hookModule('1'));
      writeFileSync(
        file,
        configText(port, `[http]\nserver1=${a.address}\n[hooks]\nmodule=${moduleName}`),
      );
      const cli = await started(file, port);
      expect((await get(port, '/one')).headers['x-hook-version']).toBe('1');
      writeFileSync(join(folder, moduleName), hookModule('2'));
      cli.child.kill('SIGHUP');
      await applied(cli);
      expect((await get(port, '/two')).headers['x-hook-version']).toBe('2');
    },
  );

  const watchedConfig = (port: number, address: string) =>
    configText(port, `[http]\nserver1=${address}`, 'log_level=info\nwatch_config=true');

  /** The watcher reloads once, moving server1 to backend b, and not again. */
  async function oneWatchReloadToB(cli: CliProcess, port: number): Promise<void> {
    expect(await applied(cli)).toMatchObject({
      trigger: 'watch',
      summary: 'http: server1 address',
    });
    await sleep(SETTLE_MS);
    expect(logged(cli, 'config-applied')).toHaveLength(1);
    expect(await answeredBy(port, '/moved')).toBe('b');
  }

  it('watch_config: an editor rename-write triggers exactly one reload', async () => {
    const [a, b] = [await harness.backend('a'), await harness.backend('b')];
    const port = await unusedPort();
    const file = join(folder, 'proxy.ini');
    writeFileSync(file, watchedConfig(port, a.address));
    const cli = await started(file, port);
    writeFileSync(join(folder, '.proxy.ini.swp'), watchedConfig(port, b.address));
    renameSync(join(folder, '.proxy.ini.swp'), file);
    await oneWatchReloadToB(cli, port);
  });

  it('watch_config: a ConfigMap update (the kubelet swapping ..data) triggers exactly one reload', async () => {
    const [a, b] = [await harness.backend('a'), await harness.backend('b')];
    const port = await unusedPort();
    writeConfigMapVolume(folder, { 'rxproxy.ini': watchedConfig(port, a.address) });
    const cli = await started(join(folder, 'rxproxy.ini'), port);
    writeConfigMapVolume(folder, { 'rxproxy.ini': watchedConfig(port, b.address) });
    await oneWatchReloadToB(cli, port);
  });

  it('watch_config turned on by a reload starts the watch', async () => {
    const [a, b] = [await harness.backend('a'), await harness.backend('b')];
    const port = await unusedPort();
    const file = join(folder, 'proxy.ini');
    writeFileSync(file, configText(port, `[http]\nserver1=${a.address}`));
    const cli = await started(file, port);
    writeFileSync(file, watchedConfig(port, a.address));
    cli.child.kill('SIGHUP');
    expect(await applied(cli)).toMatchObject({ summary: 'frontend: watch_config' });
    writeFileSync(file, watchedConfig(port, b.address));
    expect(await applied(cli, 2)).toMatchObject({ trigger: 'watch' });
    expect(await answeredBy(port, '/watched')).toBe('b');
  });

  describe('with the admin listener', () => {
    /** The CLI with `sections` and an admin listener; `write` replaces the sections. */
    async function withAdmin(sections: string) {
      const [port, adminPort] = [await unusedPort(), await unusedPort()];
      const file = join(folder, 'proxy.ini');
      const write = (text: string) =>
        writeFileSync(file, configText(port, `${text}\n[admin]\nport=${adminPort}\n`));
      write(sections);
      const cli = await started(file, port, adminPort);
      const admin = async (method: 'GET' | 'POST', path: string) => {
        const response = await request(`http://127.0.0.1:${adminPort}${path}`, {
          method,
          dispatcher: harness.client,
        });
        return { status: response.statusCode, body: await response.body.text() };
      };
      return { cli, port, write, admin };
    }

    it('POST /reload reloads the file', async () => {
      const [a, b] = [await harness.backend('a'), await harness.backend('b')];
      const proxy = await withAdmin(`[http]\nserver1=${a.address}`);
      proxy.write(`[http]\nserver1=${a.address}\nserver2=${b.address}`);
      const answer = await proxy.admin('POST', '/reload');
      expect(answer).toEqual({
        status: 200,
        body: JSON.stringify({ status: 'applied', changes: 'http: +server2' }),
      });
      expect(await applied(proxy.cli)).toMatchObject({ trigger: 'admin' });
    });

    it('an invalid file changes nothing: every problem is logged, answered and counted', async () => {
      const [a, b] = [await harness.backend('a'), await harness.backend('b')];
      const proxy = await withAdmin(`[http]\nserver1=${a.address}`);
      proxy.write(
        `[http]\nalgorithm=sideways\nserver1=${a.address}\nserver1_weight=0\nserver2=${b.address}`,
      );
      const answer = await proxy.admin('POST', '/reload');
      expect(answer.status).toBe(422);
      const { error, problems } = JSON.parse(answer.body) as {
        error: string;
        problems: string[];
      };
      expect(error).toBe('configuration rejected');
      expect(problems).toHaveLength(2);
      expect(problems.join('\n')).toMatch(/algorithm/);
      expect(problems.join('\n')).toMatch(/server1_weight/);

      await waitUntil(
        () => logged(proxy.cli, 'config-rejected').length === 1,
        'the rejection is logged',
      );
      expect(logged(proxy.cli, 'config-rejected')[0]).toMatchObject({
        trigger: 'admin',
        problems,
        level: 40,
      });
      const status = JSON.parse((await proxy.admin('GET', '/status')).body) as {
        lastReload: unknown;
      };
      expect(status.lastReload).toMatchObject({ result: 'rejected', trigger: 'admin', problems });
      const metrics = (await proxy.admin('GET', '/metrics')).body;
      expect(metrics).toContain('rxproxy_config_reloads_total{result="rejected"} 1');
      expect(metrics).toContain('rxproxy_config_reloads_total{result="applied"} 0');
      expect([await answeredBy(proxy.port, '/1'), await answeredBy(proxy.port, '/2')]).toEqual([
        'a',
        'a',
      ]);
    });
  });
});
