// Every process the harness starts goes through start(): each runs in its own process group,
// is recorded, and is stopped by stopAll() (SIGTERM to the group, SIGKILL after a bounded
// wait) at the end, on failure and on SIGINT/SIGTERM.

import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { createInterface } from 'node:readline';

export interface Child {
  name: string;
  pid: number;
  process: ChildProcess;
  /** Resolves with the exit code (or signal) once the process has exited. */
  exited: Promise<string>;
  hasExited: () => boolean;
  logFile: string;
  /** Next JSON line on stdout that has `key`, or rejects after the timeout or on exit. */
  waitFor: <T>(key: string, timeoutMs: number) => Promise<T>;
  send: (line: string) => void;
}

const live = new Set<Child>();

export interface StartOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Pipe stdin/stdout for the JSON line protocol of the benchmark's own Node processes. */
  jsonLines?: boolean;
  /** Write stdout to this file instead of the log. */
  stdoutFile?: string;
}

/**
 * Starts `command` with the open-files limit raised to the hard limit (thousands of WebSocket
 * connections need more than a default soft limit of 1024), stderr (and stdout, unless
 * jsonLines) appended to `logFile`.
 */
export function start(
  name: string,
  command: string,
  args: string[],
  logFile: string,
  options: StartOptions = {},
): Child {
  const log = openSync(logFile, 'a');
  const out = options.stdoutFile ? openSync(options.stdoutFile, 'w') : log;
  const child = spawn(
    'sh',
    ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"', 'sh', command, ...args],
    {
      cwd: options.cwd,
      env: options.env ?? process.env,
      detached: true,
      stdio: [options.jsonLines ? 'pipe' : 'ignore', options.jsonLines ? 'pipe' : out, log],
    },
  );
  closeSync(log);
  if (out !== log) closeSync(out);
  if (child.pid === undefined) throw new Error(`${name}: could not start ${command}`);
  let exitedFlag = false;
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => {
      exitedFlag = true;
      live.delete(entry);
      resolve(signal ?? String(code));
    });
    child.once('error', (error) => {
      exitedFlag = true;
      live.delete(entry);
      resolve(error.message);
    });
  });
  const pending: { key: string; resolve: (value: unknown) => void }[] = [];
  const buffered: Record<string, unknown>[] = [];
  if (child.stdout) {
    createInterface({ input: child.stdout }).on('line', (line) => {
      let value: Record<string, unknown>;
      try {
        value = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      const waiter = pending.findIndex((p) => p.key in value);
      if (waiter >= 0) {
        const [p] = pending.splice(waiter, 1);
        p?.resolve(value[p.key]);
      } else {
        buffered.push(value);
      }
    });
  }
  child.stdin?.on('error', () => undefined);
  const entry: Child = {
    name,
    pid: child.pid,
    process: child,
    exited,
    hasExited: () => exitedFlag,
    logFile,
    waitFor: <T>(key: string, timeoutMs: number): Promise<T> => {
      const index = buffered.findIndex((value) => key in value);
      if (index >= 0) {
        const [value] = buffered.splice(index, 1);
        return Promise.resolve(value?.[key] as T);
      }
      return new Promise<T>((resolve, reject) => {
        const waiter = { key, resolve: (value: unknown) => finish(() => resolve(value as T)) };
        const timer = setTimeout(
          () => finish(() => reject(new Error(`${name}: no "${key}" within ${timeoutMs} ms`))),
          timeoutMs,
        );
        const finish = (then: () => void): void => {
          clearTimeout(timer);
          const i = pending.indexOf(waiter);
          if (i >= 0) pending.splice(i, 1);
          then();
        };
        pending.push(waiter);
        void exited.then((how) =>
          finish(() => reject(new Error(`${name} exited (${how})${logTail(logFile)}`))),
        );
      });
    },
    send: (line: string) => {
      child.stdin?.write(`${line}\n`);
    },
  };
  live.add(entry);
  return entry;
}

/** The last lines of a log file, for error messages. */
export function logTail(logFile: string, lines = 8): string {
  try {
    const text = readFileSync(logFile, 'utf8').trimEnd();
    return text ? `:\n${text.split('\n').slice(-lines).join('\n')}` : '';
  } catch {
    return '';
  }
}

function signalGroup(child: Child, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid, signal);
  } catch {
    // No such group (already gone). The pid alone only while it is still our child.
    if (!child.hasExited()) {
      try {
        process.kill(child.pid, signal);
      } catch {
        // already gone
      }
    }
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** SIGTERM to the child's process group; SIGKILL if it is still there after `graceMs`. */
export async function stop(child: Child, graceMs = 3000): Promise<void> {
  if (!child.hasExited()) {
    child.process.stdin?.end();
    signalGroup(child, 'SIGTERM');
    await Promise.race([child.exited, sleep(graceMs)]);
  }
  // The group may hold processes that outlive their leader (nginx workers): always finish it.
  signalGroup(child, 'SIGKILL');
  await Promise.race([child.exited, sleep(1000)]);
  live.delete(child);
}

export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((child) => stop(child)));
}

/** Synchronous last resort for process 'exit': SIGKILL whatever is still recorded. */
export function killAllNow(): void {
  for (const child of live) signalGroup(child, 'SIGKILL');
  live.clear();
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port. */
export async function waitForPort(port: number, child: Child, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.hasExited()) {
      throw new Error(`${child.name} exited before listening${logTail(child.logFile)}`);
    }
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) {
      throw new Error(`${child.name} not listening on ${port} after ${timeoutMs} ms`);
    }
    await sleep(50);
  }
}
