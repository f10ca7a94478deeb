// HTTP load generators: wrk (one thread) and, when wrk is missing, autocannon. Both run as
// their own process; the result is parsed into one shape.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { start, stop } from './children';
import { cpuSeconds } from './procfs';
import { peerModulePath, which } from './tools';

export interface HttpLoadResult {
  requests: number;
  seconds: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Responses with a status of 400 or more (wrk: "Non-2xx or 3xx responses"). */
  non2xx: number;
  /** Socket errors: connect, read, write, timeout (wrk), or errors + timeouts (autocannon). */
  socketErrors: { connect: number; read: number; write: number; timeout: number };
}

export type LoadGenerator = 'wrk' | 'autocannon';

export interface LoadOptions {
  generator: LoadGenerator;
  url: string;
  connections: number;
  seconds: number;
  /** Folder for the generator's output. */
  dir: string;
  /** Label for the output file. */
  label: string;
  root: string;
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

function durationMs(text: string): number {
  const match = /^([\d.]+)(us|ms|s|m)$/.exec(text.trim());
  if (!match) return Number.NaN;
  return Number(match[1]) * (UNIT_MS[match[2] ?? 'ms'] ?? 1);
}

/** Parses `wrk --latency` output. */
export function parseWrk(text: string): HttpLoadResult {
  const num = (pattern: RegExp): number => {
    const match = pattern.exec(text);
    return match ? Number(match[1]) : 0;
  };
  const latency = (percent: number): number => {
    const match = new RegExp(`^\\s*${percent}%\\s+(\\S+)`, 'm').exec(text);
    return match?.[1] ? durationMs(match[1]) : Number.NaN;
  };
  const total = /(\d+) requests in ([\d.]+)(us|ms|s|m)/.exec(text);
  if (!total) throw new Error(`unexpected wrk output:\n${text}`);
  const requests = Number(total[1]);
  const seconds = durationMs(`${total[2]}${total[3]}`) / 1000;
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  return {
    requests,
    seconds,
    rps: num(/Requests\/sec:\s+([\d.]+)/) || requests / seconds,
    p50Ms: latency(50),
    p99Ms: latency(99),
    non2xx: num(/Non-2xx or 3xx responses: (\d+)/),
    socketErrors: {
      connect: Number(errors?.[1] ?? 0),
      read: Number(errors?.[2] ?? 0),
      write: Number(errors?.[3] ?? 0),
      timeout: Number(errors?.[4] ?? 0),
    },
  };
}

interface AutocannonJson {
  requests: { total: number };
  latency: { p50: number; p99: number };
  duration: number;
  non2xx: number;
  errors: number;
  timeouts: number;
}

/** Parses `autocannon --json` output. */
export function parseAutocannon(text: string): HttpLoadResult {
  const json = JSON.parse(text.slice(text.indexOf('{'))) as AutocannonJson;
  return {
    requests: json.requests.total,
    seconds: json.duration,
    rps: json.requests.total / json.duration,
    p50Ms: json.latency.p50,
    p99Ms: json.latency.p99,
    non2xx: json.non2xx,
    socketErrors: { connect: 0, read: json.errors, write: 0, timeout: json.timeouts },
  };
}

export function defaultGenerator(): LoadGenerator {
  return which('wrk') ? 'wrk' : 'autocannon';
}

export function generatorVersion(generator: LoadGenerator, root: string): string {
  if (generator === 'autocannon') {
    try {
      const file = peerModulePath(root, 'autocannon', 'package.json');
      return `autocannon ${(JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version}`;
    } catch {
      return 'autocannon';
    }
  }
  return 'wrk';
}

/** Runs one load test and returns its parsed result; fails after the duration + 30 s. */
export async function runHttpLoad(
  options: LoadOptions,
): Promise<HttpLoadResult & { raw: string; generatorCpuSeconds: number }> {
  const out = join(options.dir, `${options.label}.out`);
  const child =
    options.generator === 'wrk'
      ? start(
          'wrk',
          which('wrk') ?? 'wrk',
          [
            '-t1',
            `-c${options.connections}`,
            `-d${options.seconds}s`,
            '--latency',
            '--timeout',
            '5s',
            options.url,
          ],
          out,
        )
      : start(
          'autocannon',
          process.execPath,
          [
            peerModulePath(options.root, 'autocannon', 'autocannon.js'),
            '-c',
            String(options.connections),
            '-d',
            String(options.seconds),
            '-t',
            '5',
            '--json',
            options.url,
          ],
          `${out}.err`,
          { stdoutFile: out },
        );
  // The generator's own CPU time, sampled while it runs (its last 200 ms are missed): shows
  // when the load generator rather than the proxy is the limit.
  let generatorCpuSeconds = 0;
  const sampler = setInterval(() => {
    if (!child.hasExited()) generatorCpuSeconds = cpuSeconds(child.pid);
  }, 200);
  const timeout = new Promise<'timeout'>((resolve) =>
    setTimeout(() => resolve('timeout'), (options.seconds + 30) * 1000).unref(),
  );
  const how = await Promise.race([child.exited, timeout]);
  clearInterval(sampler);
  if (how === 'timeout') {
    await stop(child);
    throw new Error(`${options.generator} did not finish in time (${options.label})`);
  }
  const raw = readFileSync(out, 'utf8');
  if (how !== '0') throw new Error(`${options.generator} exited with ${how}:\n${raw}`);
  const result = options.generator === 'wrk' ? parseWrk(raw) : parseAutocannon(raw);
  return { ...result, raw, generatorCpuSeconds };
}
