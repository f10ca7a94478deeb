// HTTP load generators: wrk (one thread) and, when wrk is missing, autocannon; h2load for the
// HTTP/2 rounds. Each runs as its own process; the result is parsed into one shape.

import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { start, stop, type Child } from './children';
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

/** Waits for the generator to exit; fails after `limitSeconds` + 30 s or on a non-zero exit. */
async function finish(
  child: Child,
  name: string,
  label: string,
  limitSeconds: number,
  out: string,
): Promise<string> {
  const timeout = new Promise<'timeout'>((resolve) =>
    setTimeout(() => resolve('timeout'), (limitSeconds + 30) * 1000).unref(),
  );
  const how = await Promise.race([child.exited, timeout]);
  if (how === 'timeout') {
    await stop(child);
    throw new Error(`${name} did not finish in time (${label})`);
  }
  const raw = readFileSync(out, 'utf8');
  if (how !== '0') throw new Error(`${name} exited with ${how}:\n${raw}`);
  return raw;
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
  const raw = await finish(child, options.generator, options.label, options.seconds, out).finally(
    () => clearInterval(sampler),
  );
  const result = options.generator === 'wrk' ? parseWrk(raw) : parseAutocannon(raw);
  return { ...result, raw, generatorCpuSeconds };
}

/**
 * h2load's request counts of the measured period besides those completed (its "done", which is
 * `requests`), and what TLS and ALPN it negotiated.
 */
export interface H2loadCounts {
  /** Responses with a 2xx or 3xx status. */
  succeeded: number;
  /** Requests that did not succeed: a status of 400 or more, a stream error or a timeout. */
  failed: number;
  /** Requests that ended in a stream or connection error. */
  errored: number;
  timedOut: number;
  /** ALPN protocol, TLS version and cipher h2load reported; '' when it reported none. */
  protocol: string;
  tlsProtocol: string;
  cipher: string;
}

/** Parses h2load's summary; the latencies come from its request log (parseH2loadLog). */
export function parseH2load(
  text: string,
  seconds: number,
): Omit<HttpLoadResult, 'p50Ms' | 'p99Ms'> & H2loadCounts {
  const line = (pattern: RegExp): string => pattern.exec(text)?.[1]?.trim() ?? '';
  const counts =
    /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(
      text,
    );
  const rps = /finished in [\d.]+\w*, ([\d.]+) req\/s/.exec(text);
  if (!counts || !rps) throw new Error(`unexpected h2load output:\n${text}`);
  const count = (i: number): number => Number(counts[i] ?? 0);
  const status = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(text);
  return {
    requests: count(3),
    seconds,
    rps: Number(rps[1]),
    non2xx: Number(status?.[3] ?? 0) + Number(status?.[4] ?? 0),
    socketErrors: { connect: 0, read: count(6), write: 0, timeout: count(7) },
    succeeded: count(4),
    failed: count(5),
    errored: count(6),
    timedOut: count(7),
    protocol: line(/^Application protocol: (.+)$/m),
    tlsProtocol: line(/^TLS Protocol: (.+)$/m),
    cipher: line(/^Cipher: (.+)$/m),
  };
}

/**
 * p50 and p99 of h2load's request log (one line per request: start time in µs, status, time
 * in µs, in the order the requests ended): the last `done` lines, the warm-up's come first.
 */
export function parseH2loadLog(text: string, done: number): { p50Ms: number; p99Ms: number } {
  const lines = text.split('\n').filter((l) => l !== '');
  const micros = lines
    .slice(Math.max(0, lines.length - done))
    .map((l) => Number(l.split('\t')[2]))
    .filter((n) => Number.isFinite(n))
    .sort((a, b) => a - b);
  const at = (q: number): number =>
    micros.length > 0
      ? (micros[Math.min(micros.length - 1, Math.floor(q * micros.length))] ?? Number.NaN) / 1000
      : Number.NaN;
  return { p50Ms: at(0.5), p99Ms: at(0.99) };
}

export interface H2loadOptions {
  url: string;
  /** Connections, and streams in flight on each. */
  clients: number;
  streams: number;
  /** The measured period, after `warmupSeconds` of unmeasured load on the same connections. */
  seconds: number;
  warmupSeconds: number;
  dir: string;
  label: string;
  /** Called when h2load starts and ends its measured period, to take the proxy's CPU then. */
  onMeasureStart: () => void;
  onMeasureEnd: () => void;
}

const MEASURE_START = 'Main benchmark duration is started';
const MEASURE_END = 'Main benchmark duration is over';

/**
 * One h2load run over TLS with ALPN `h2` only, so a front that does not offer HTTP/2 fails
 * rather than being measured over HTTP/1.1. h2load prints when its measured period starts and
 * ends; its output file is polled for those lines so that the CPU of the proxy and of h2load is
 * taken over the same period as the requests it counts (within the 20 ms of a poll).
 */
export async function runH2load(
  options: H2loadOptions,
): Promise<HttpLoadResult & H2loadCounts & { raw: string; generatorCpuSeconds: number }> {
  const h2load = which('h2load');
  if (!h2load) throw new Error('h2load is not installed (bench/install-peers.sh)');
  const out = join(options.dir, `${options.label}.out`);
  const requestLog = join(options.dir, `${options.label}.requests.tsv`);
  const child = start(
    'h2load',
    h2load,
    [
      '--npn-list=h2',
      // The TLS 1.3 cipher wrk's OpenSSL prefers, and HAProxy's own preference: one cipher for all.
      '--tls13-ciphers=TLS_AES_256_GCM_SHA384',
      '-c',
      String(options.clients),
      '-m',
      String(options.streams),
      '-t',
      '1',
      '-D',
      String(options.seconds),
      '--warm-up-time',
      String(options.warmupSeconds),
      '--log-file',
      requestLog,
      options.url,
    ],
    out,
  );
  let generatorStart = Number.NaN;
  let generatorEnd = Number.NaN;
  let generatorLast = Number.NaN;
  let ticks = 0;
  const poll = setInterval(() => {
    if (child.hasExited()) return;
    if (++ticks % 10 === 0) generatorLast = cpuSeconds(child.pid);
    let text: string;
    try {
      text = readFileSync(out, 'utf8');
    } catch {
      return;
    }
    if (Number.isNaN(generatorStart) && text.includes(MEASURE_START)) {
      generatorStart = cpuSeconds(child.pid);
      options.onMeasureStart();
    }
    if (!Number.isNaN(generatorStart) && Number.isNaN(generatorEnd) && text.includes(MEASURE_END)) {
      generatorEnd = cpuSeconds(child.pid);
      options.onMeasureEnd();
    }
  }, 20);
  try {
    const raw = await finish(
      child,
      'h2load',
      options.label,
      options.seconds + options.warmupSeconds,
      out,
    ).finally(() => clearInterval(poll));
    const summary = parseH2load(raw, options.seconds);
    if (summary.protocol !== 'h2') {
      throw new Error(
        `ALPN did not select h2: h2load negotiated ${summary.protocol ? `"${summary.protocol}"` : 'no protocol'} and made ${summary.requests} requests`,
      );
    }
    if (Number.isNaN(generatorStart)) throw new Error('h2load did not report its measured period');
    if (Number.isNaN(generatorEnd)) {
      // h2load exited within a poll of the end of its measured period.
      generatorEnd = generatorLast;
      options.onMeasureEnd();
    }
    const latency = parseH2loadLog(readFileSync(requestLog, 'utf8'), summary.requests);
    return {
      ...summary,
      ...latency,
      raw,
      generatorCpuSeconds: Math.max(0, generatorEnd - generatorStart),
    };
  } finally {
    rmSync(requestLog, { force: true });
  }
}
