import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unusedPort } from './backend';

export const CLI = join(__dirname, '..', '..', 'dist', 'cli.js');

export interface CliProcess {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code; kills the process if it has not exited within `withinMs`. */
  exited(withinMs?: number): Promise<number | null>;
  /** Resolves once stdout contains `text`, rejects after `withinMs`. */
  waitFor(text: string, withinMs?: number): Promise<void>;
}

export function runCli(args: readonly string[], env: Record<string, string> = {}): CliProcess {
  const child = spawn(process.execPath, [CLI, ...args], {
    // The demo's admin listener takes a free port unless a test names one (9901 would collide).
    env: { ...process.env, ADMIN_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited: async (withinMs = 15_000) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), withinMs);
      const code = await exit;
      clearTimeout(timer);
      return code;
    },
    waitFor: (text, withinMs = 10_000) =>
      new Promise<void>((resolve, reject) => {
        const deadline = Date.now() + withinMs;
        const poll = setInterval(() => {
          if (out.includes(text)) {
            clearInterval(poll);
            resolve();
          } else if (Date.now() > deadline || child.exitCode !== null) {
            clearInterval(poll);
            reject(new Error(`"${text}" not seen; stdout: ${out}\nstderr: ${err}`));
          }
        }, 20);
      }),
  };
}

export interface ProxyProcess {
  readonly cli: CliProcess;
  readonly port: number;
  readonly pid: number;
}

/**
 * `node dist/cli.js` with a config of `[frontend]` on a free loopback port plus `sections`,
 * written into `folder`, with `env` added to the environment; resolves once it logged that it
 * listens (at log level info).
 */
export async function spawnProxy(
  folder: string,
  sections: string,
  port: number,
  env: Record<string, string> = {},
): Promise<ProxyProcess> {
  const file = join(folder, `proxy-${port}.ini`);
  writeFileSync(file, `[frontend]\nhost=127.0.0.1\nport=${port}\nlog_level=info\n${sections}`);
  const cli = runCli(['--config', file], env);
  await cli.waitFor('"event":"listening"');
  const pid = cli.child.pid;
  if (pid === undefined) throw new Error('proxy process has no pid');
  return { cli, port, pid };
}

/**
 * `spawnProxy` in a temporary folder of its own, on an unused port: `onCleanup` stops the
 * process and removes the folder.
 */
export async function spawnProxyInTempFolder(
  onCleanup: (cleanup: () => Promise<void> | void) => void,
  sections: string,
  env: Record<string, string> = {},
): Promise<ProxyProcess> {
  const folder = mkdtempSync(join(tmpdir(), 'rxproxy-spawned-'));
  onCleanup(() => rmSync(folder, { recursive: true, force: true }));
  const proxy = await spawnProxy(folder, sections, await unusedPort(), env);
  onCleanup(async () => {
    proxy.cli.child.kill('SIGTERM');
    await proxy.cli.exited();
  });
  return proxy;
}

/** One JSON log line of the process. */
export type LogLine = Record<string, unknown>;

/** The JSON lines the process logged so far. */
export function logLines(cli: CliProcess): LogLine[] {
  return cli
    .stdout()
    .split('\n')
    .flatMap((line) => {
      if (!line.startsWith('{')) return [];
      try {
        return [JSON.parse(line) as LogLine];
      } catch {
        return [];
      }
    });
}
