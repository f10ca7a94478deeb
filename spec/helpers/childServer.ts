import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

/** A server in its own process, which a test can SIGKILL as a crashing backend would die. */
export interface ChildServer {
  readonly child: ChildProcess;
  readonly port: number;
  readonly address: string;
  /** SIGKILLs the process if it is still running; resolves once it has exited. */
  kill(): Promise<void>;
}

/**
 * Runs `script` with `node -e` from the project folder (so it can require the project's
 * packages); the script must print the port it listens on, alone on the first line of stdout.
 */
export function startChildServer(script: string, withinMs = 10_000): Promise<ChildServer> {
  return startServerProcess(
    ['-e', script],
    (line) => (/^\d+$/.test(line) ? Number(line) : undefined),
    withinMs,
  );
}

/**
 * Runs `node ...args` from the project folder; `portOf` reads the port the server listens on
 * from the first line of its stdout (undefined: the line is not what the server should print).
 */
export async function startServerProcess(
  args: readonly string[],
  portOf: (firstLine: string) => number | undefined,
  withinMs = 10_000,
): Promise<ChildServer> {
  const child = spawn(process.execPath, args, {
    cwd: join(__dirname, '..', '..'),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const kill = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  try {
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error('the server process did not start')),
        withinMs,
      );
      let out = '';
      const fail = (error: Error) => {
        clearTimeout(timer);
        reject(error);
      };
      child.once('error', fail);
      child.once('exit', (code) => fail(new Error(`the server process exited with ${code}`)));
      child.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const end = out.indexOf('\n');
        if (end === -1) return;
        const port = portOf(out.slice(0, end));
        if (port === undefined) fail(new Error(`unexpected first line: ${out.slice(0, end)}`));
        else {
          clearTimeout(timer);
          resolve(port);
        }
      });
    });
    return { child, port, address: `127.0.0.1:${port}`, kill };
  } catch (error) {
    await kill();
    throw error;
  }
}

/**
 * An HTTP backend in its own process on `port` (0: any free one). It answers
 * `{"backend":NAME,"url":...}`, after `?delay=MS` when the query asks for one, and
 * `GET /healthCheck` with `{"status":200}`.
 */
export function startHttpBackendProcess(name: string, port = 0): Promise<ChildServer> {
  return startChildServer(`
    const http = require('node:http');
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const delay = Number(new URL(req.url, 'http://x').searchParams.get('delay') ?? 0);
        const body = req.url === '/healthCheck'
          ? '{"status":200}'
          : JSON.stringify({ backend: ${JSON.stringify(name)}, url: req.url });
        const send = () => res.end(body);
        if (delay > 0) setTimeout(send, delay); else send();
      });
    });
    server.keepAliveTimeout = 60000;
    server.listen(${port}, '127.0.0.1', () => console.log(server.address().port));
  `);
}
