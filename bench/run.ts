// Benchmark harness: rxproxy against node-http-proxy, fastify + @fastify/reply-from, nginx and
// HAProxy in front of the same two Node backends, all on 127.0.0.1. See docs/performance.md.
//
//   npm run bench                 full run, results in bench/results/latest.{json,md,svg}
//   npm run bench -- --quick      1 round, short runs, Node targets only (under a minute);
//                                 results in bench/results/tmp/quick/ so that the committed
//                                 full results are not overwritten
//
// Options: --rounds N, --duration S (HTTP), --ws-duration S, --ws-idle N, --warmup S,
// --targets a,b,c, --load wrk|autocannon, --out DIR, --tls 0|1, --http2 0|1; --baseline DIR adds the rxproxy built in
// DIR (e.g. a worktree of the commit before a change) as target rxproxy-baseline, interleaved
// with rxproxy in each round, results in bench/results/tmp/baseline; --render FILE.json writes
// the Markdown and SVG again from saved results, next to that file, without measuring.
//
// Full results written to bench/results/ are also published: the tables into
// docs/performance.md and the chart with the headline ratios into README.md, each between
// <!-- bench:start --> and <!-- bench:end -->.

import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpGet, Agent } from 'node:http';
import { get as httpsGet, Agent as HttpsAgent } from 'node:https';
import { connect as http2Connect } from 'node:http2';
import { createServer, type AddressInfo } from 'node:net';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import WebSocket from 'ws';
import { killAllNow, start, stop, stopAll, waitForPort, type Child } from './lib/children';
import {
  defaultGenerator,
  generatorVersion,
  runH2load,
  runHttpLoad,
  type HttpLoadResult,
  type LoadGenerator,
} from './lib/load';
import {
  CLK_TCK,
  cpuSeconds,
  cpuTimes,
  peakRssKiB,
  resetPeakRss,
  rssKiB,
  type CpuTimes,
} from './lib/procfs';
import { format, resolveConfig } from 'prettier';
import { markdown, readmeSummary, replaceBenchBlock, svgChart } from './lib/report';
import {
  parseResults,
  type Http2Run,
  type HttpRun,
  type Machine,
  type Results,
  type Settings,
  type TargetInfo,
  type WsMemory,
  type WsMemoryMethod,
  type WsRun,
} from './lib/results';
import {
  allTargets,
  optionalTargets,
  quickTargets,
  rxproxyTarget,
  type BenchCertificate,
  type Target,
} from './lib/targets';
import { makeBenchCertificate } from './lib/certificate';
import { inRoundOrder } from './lib/stats';
import { versionLine, which } from './lib/tools';

const root = resolve(__dirname, '..', '..', '..', '..');
/** h2load's connections in the HTTP/2 rounds; the streams on each make up httpConnections. */
const HTTP2_CLIENTS = 10;
const committedResults = join(root, 'bench', 'results');
const jsDir = __dirname;
const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));
const log = (message: string): void => {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
};

/** The CPU the process tree used since `start`: in total, in user mode and in the kernel. */
function cpuSince(
  pid: number,
  start: CpuTimes,
): { cpu: number; userSeconds: number; systemSeconds: number } {
  const now = cpuTimes(pid);
  const userSeconds = now.user - start.user;
  const systemSeconds = now.system - start.system;
  return { cpu: userSeconds + systemSeconds, userSeconds, systemSeconds };
}

interface Options {
  quick: boolean;
  rounds: number;
  httpSeconds: number;
  wsSeconds: number;
  wsIdle: number;
  warmupSeconds: number;
  targets: Target[];
  load: LoadGenerator;
  out: string;
  /** HTTPS rounds (HTTP/1.1 over TLS) for the targets that serve it. */
  tls: boolean;
  /** HTTP/2 rounds (over TLS, from h2load) for the targets that serve it. */
  http2: boolean;
}

function parseOptions(argv: string[]): Options {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    const [key, inline] = a.slice(2).split('=', 2) as [string, string | undefined];
    if (key === 'quick' || key === 'help') flags.set(key, 'true');
    else flags.set(key, inline ?? argv[++i] ?? '');
  }
  if (flags.has('help')) {
    process.stdout.write(
      'npm run bench [-- --quick] [--rounds N] [--duration S] [--ws-duration S] [--ws-idle N]\n' +
        '              [--warmup S] [--targets rxproxy,rxproxy-admin,rxproxy-hooks,node-floor,node-http-proxy,fastify,nginx,haproxy]\n' +
        '              [--load wrk|autocannon] [--out DIR] [--baseline DIR] [--tls 0|1] [--http2 0|1]\n' +
        'npm run bench -- --render bench/results/latest.json\n',
    );
    process.exit(0);
  }
  const known = [
    'quick',
    'rounds',
    'duration',
    'ws-duration',
    'ws-idle',
    'warmup',
    'targets',
    'load',
    'out',
    'baseline',
    'tls',
    'http2',
  ];
  for (const key of flags.keys())
    if (!known.includes(key)) throw new Error(`unknown option --${key}`);
  const quick = flags.has('quick');
  const number = (key: string, fallback: number): number => {
    const value = flags.has(key) ? Number(flags.get(key)) : fallback;
    if (!Number.isFinite(value) || value < 0) throw new Error(`--${key} must be a number ≥ 0`);
    return value;
  };
  const names = flags.get('targets')?.split(',').filter(Boolean);
  const targets = [
    ...(names
      ? names.map((name) => {
          const target = [...allTargets, ...optionalTargets].find((t) => t.name === name);
          if (!target) throw new Error(`unknown target ${name}`);
          return target;
        })
      : quick
        ? quickTargets
        : allTargets),
  ];
  const baseline = flags.get('baseline');
  if (baseline !== undefined) {
    const at = targets.findIndex((target) => target.name === 'rxproxy');
    targets.splice(at + 1, 0, rxproxyTarget('rxproxy-baseline', resolve(baseline)));
  }
  const load = (flags.get('load') ?? defaultGenerator()) as LoadGenerator;
  if (load !== 'wrk' && load !== 'autocannon') throw new Error('--load is wrk or autocannon');
  if (load === 'wrk' && !which('wrk'))
    throw new Error('wrk is not installed (bench/install-peers.sh)');
  return {
    quick,
    rounds: Math.max(1, Math.round(number('rounds', quick ? 1 : 5))),
    httpSeconds: number('duration', quick ? 3 : 10),
    wsSeconds: number('ws-duration', quick ? 3 : 8),
    wsIdle: Math.round(number('ws-idle', quick ? 500 : 2000)),
    warmupSeconds: number('warmup', quick ? 1 : 3),
    targets,
    load,
    tls: number('tls', quick ? 0 : 1) > 0,
    http2: number('http2', quick ? 0 : 1) > 0,
    out: resolve(
      flags.get('out') ??
        (quick
          ? join(committedResults, 'tmp', 'quick')
          : baseline !== undefined
            ? join(committedResults, 'tmp', 'baseline')
            : committedResults),
    ),
  };
}

function machine(): Machine {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  return {
    cpuModel: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? cpus()[0]?.model ?? '?',
    cores: cpus().length,
    memoryGiB: totalmem() / 2 ** 30,
    kernel: release(),
    node: process.version,
    clockTicks: CLK_TCK,
    loadAverage: { start: loadavg()[0] ?? 0, end: Number.NaN },
  };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

interface Answer {
  status: number;
  body: string;
}

/** `get` (GET /check) until every backend has answered 200 with its JSON. */
async function checkRoundRobin(backends: number, get: () => Promise<Answer>): Promise<void> {
  const seen = new Set<string>();
  for (let i = 0; i < backends * 2; i++) {
    const { status, body } = await get();
    if (status !== 200) throw new Error(`GET /check answered ${status}: ${body.slice(0, 200)}`);
    seen.add((JSON.parse(body) as { backend: string }).backend);
  }
  if (seen.size !== backends) {
    throw new Error(`round-robin reached ${seen.size} of ${backends} backends`);
  }
}

/** GETs through the target until every backend has answered 200 with its JSON. */
async function checkHttp(port: number, backends: number, ca?: string): Promise<void> {
  const agent = ca
    ? new HttpsAgent({ keepAlive: true, maxSockets: 1, ca: readFileSync(ca) })
    : new Agent({ keepAlive: true, maxSockets: 1 });
  const get = ca ? httpsGet : httpGet;
  try {
    await checkRoundRobin(
      backends,
      () =>
        new Promise<Answer>((done, fail) => {
          const req = get(
            { host: '127.0.0.1', port, path: '/check', agent, timeout: 5000 },
            (res) => {
              let text = '';
              res.setEncoding('utf8');
              res.on('data', (chunk: string) => (text += chunk));
              res.on('end', () => done({ status: res.statusCode ?? 0, body: text }));
            },
          );
          req.on('timeout', () => req.destroy(new Error('timed out')));
          req.on('error', fail);
        }),
    );
  } finally {
    agent.destroy();
  }
}

/** The same over HTTP/2, on one session that must have negotiated h2 by ALPN. */
async function checkHttp2(port: number, backends: number, ca: string): Promise<void> {
  const session = http2Connect(`https://127.0.0.1:${port}`, { ca: readFileSync(ca) });
  try {
    await new Promise<void>((done, fail) => {
      session.once('connect', () => done());
      session.once('error', (error: Error & { code?: string }) =>
        fail(
          error.code === 'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL'
            ? new Error('ALPN did not select h2: the server has no protocol in common with h2')
            : error,
        ),
      );
      setTimeout(() => fail(new Error('no HTTP/2 session within 5 s')), 5000).unref();
    });
    if (session.alpnProtocol !== 'h2') {
      throw new Error(`ALPN did not select h2 (negotiated ${session.alpnProtocol || 'nothing'})`);
    }
    await checkRoundRobin(
      backends,
      () =>
        new Promise<Answer>((done, fail) => {
          const stream = session.request({ ':path': '/check' });
          let status = 0;
          let text = '';
          stream.setEncoding('utf8');
          stream.setTimeout(5000, () => stream.close());
          stream.on('response', (headers) => (status = Number(headers[':status'] ?? 0)));
          stream.on('data', (chunk: string) => (text += chunk));
          stream.on('end', () => done({ status, body: text }));
          stream.on('close', () => fail(new Error('the stream closed before its end')));
          stream.on('error', fail);
        }),
    );
  } finally {
    session.destroy();
  }
}

/** One WebSocket echo through the target. */
function checkWebSocket(port: number): Promise<void> {
  return new Promise((done, fail) => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}/ws`, { handshakeTimeout: 5000 });
    const timer = setTimeout(() => {
      socket.terminate();
      fail(new Error('WebSocket echo timed out'));
    }, 5000);
    socket.once('open', () => socket.send('check'));
    socket.once('message', (data: Buffer) => {
      clearTimeout(timer);
      socket.close();
      if (data.toString() === 'check') done();
      else fail(new Error('WebSocket echo differed'));
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      fail(error);
    });
  });
}

interface Running {
  target: Target;
  info: TargetInfo;
  child: Child;
  port: number;
  /** The target serves HTTPS: the TLS rounds. */
  tls?: boolean;
}

async function render(file: string): Promise<void> {
  const results = parseResults(readFileSync(file, 'utf8'));
  const dir = dirname(resolve(file));
  writeFileSync(join(dir, 'latest.md'), markdown(results));
  writeFileSync(join(dir, 'latest.svg'), svgChart(results));
  log(`wrote ${dir}/latest.{md,svg} from ${file}`);
  if (dir === committedResults && results.settings.mode === 'full') await publish(results);
}

/** The tables go into docs/performance.md, the chart and the headline ratios into README.md. */
async function publish(results: Results): Promise<void> {
  const chart = 'bench/results/latest.svg';
  await replaceInDocument(join(root, 'README.md'), readmeSummary(results, chart));
  await replaceInDocument(
    join(root, 'docs', 'performance.md'),
    markdown(results, { chart: `../${chart}` }),
  );
}

async function replaceInDocument(file: string, block: string): Promise<void> {
  const text = replaceBenchBlock(readFileSync(file, 'utf8'), block);
  const config = (await resolveConfig(file)) ?? {};
  writeFileSync(file, await format(text, { ...config, filepath: file }));
  log(`updated the results in ${file}`);
}

async function main(): Promise<void> {
  const started = Date.now();
  const renderIndex = process.argv.indexOf('--render');
  if (renderIndex >= 0) {
    await render(process.argv[renderIndex + 1] ?? join(committedResults, 'latest.json'));
    return;
  }
  const options = parseOptions(process.argv.slice(2));
  const scratch = join(root, 'bench', 'results', 'tmp', 'run');
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  mkdirSync(options.out, { recursive: true });

  const peakScopeOk = resetPeakRss(process.pid);
  const settings: Settings = {
    mode: options.quick ? 'quick' : 'full',
    orderRotated: true,
    rounds: options.rounds,
    loadGenerator: options.load,
    loadGeneratorVersion: generatorVersion(options.load, root),
    httpConnections: 50,
    httpSeconds: options.httpSeconds,
    warmupSeconds: options.warmupSeconds,
    wsConnections: 50,
    wsMessageBytes: 32,
    wsSeconds: options.wsSeconds,
    wsIdlePairs: options.wsIdle,
    backends: 2,
    backendBodyBytes: 100,
    peakRssScope: peakScopeOk ? 'run' : 'lifetime',
  };
  if (options.load === 'wrk') {
    const version = versionLine(which('wrk') ?? 'wrk', ['-v'], /wrk (?:debian\/)?(\S+)/);
    settings.loadGeneratorVersion = version ? `wrk ${version}` : 'wrk';
  }
  const results: Results = {
    date: new Date().toISOString(),
    wallSeconds: 0,
    machine: machine(),
    settings,
    targets: [],
    skipped: [],
    http: [],
    websocket: [],
    wsMemory: [],
  };

  const usable: Target[] = [];
  for (const target of options.targets) {
    const reason = target.unavailable(root);
    if (reason) {
      log(`skipping ${target.name}: ${reason}`);
      results.skipped.push({ name: target.name, reason });
    } else {
      usable.push(target);
    }
  }
  log(
    `${settings.mode}: ${usable.map((t) => t.name).join(', ')}; ${settings.rounds} round(s), ` +
      `HTTP ${settings.httpSeconds} s with ${settings.loadGeneratorVersion}, WebSocket ${settings.wsSeconds} s, ` +
      `${settings.wsIdlePairs} idle WebSocket pairs`,
  );

  // Backends.
  const backendsChild = start(
    'backends',
    process.execPath,
    [join(jsDir, 'servers', 'backends.js'), '--count', String(settings.backends)],
    join(scratch, 'backends.log'),
    { jsonLines: true },
  );
  const ports = await backendsChild.waitFor<number[]>('ports', 15_000);
  const backends = ports.map((p) => `127.0.0.1:${p}`);
  const backendStats = async (): Promise<number[]> => {
    backendsChild.send('stats');
    return backendsChild.waitFor<number[]>('counts', 5000);
  };

  // Targets: start them all, measure idle RSS, check they answer correctly.
  const running: Running[] = [];
  const launch = async (
    target: Target,
    tls?: BenchCertificate,
  ): Promise<{ child: Child; port: number }> => {
    const port = await freePort();
    const child = target.start({
      port,
      backends,
      dir: scratch,
      root,
      jsDir,
      ...(tls ? { tls } : {}),
    });
    await waitForPort(port, child);
    return { child, port };
  };
  for (const target of usable) {
    const info: TargetInfo = {
      name: target.name,
      version: target.version(root),
      websocket: target.websocket,
      http2: target.tls && target.http2,
      idleRssKiB: 0,
    };
    results.targets.push(info);
    try {
      const { child, port } = await launch(target);
      running.push({ target, info, child, port });
    } catch (error) {
      info.error = `did not start: ${(error as Error).message}`;
      log(`${target.name}: ${info.error}`);
    }
  }
  await sleep(1500); // rxproxy opens its min_workers connections; everything settles
  for (const r of running) r.info.idleRssKiB = rssKiB(r.child.pid);
  for (const r of [...running]) {
    try {
      await checkHttp(r.port, settings.backends);
      if (r.target.websocket) await checkWebSocket(r.port);
    } catch (error) {
      r.info.error = `failed the correctness check: ${(error as Error).message}`;
      log(`${r.target.name}: ${r.info.error}`);
      await stop(r.child);
      running.splice(running.indexOf(r), 1);
    }
  }
  await backendStats();

  /** Still running and without error: only such targets take part in further runs. */
  const alive = (r: Running): boolean => {
    if (r.child.hasExited()) r.info.error ??= 'exited during the benchmark';
    return r.info.error === undefined;
  };
  /** A run that failed flags its target (⚠ in the tables) and takes it out of later runs. */
  const fail = (r: Running, phase: string, error: unknown): void => {
    const message = error instanceof Error ? error.message : JSON.stringify(error);
    r.info.error ??= `${phase} failed: ${message}`;
    log(`${r.target.name}: ${phase} failed: ${message}`);
  };

  /** The proxy's and the backends' CPU and the wall time from `start` on. */
  interface Meter {
    peakOk: boolean;
    proxyCpu: CpuTimes;
    backendCpu: number;
    t0: bigint;
  }
  interface Metered {
    wall: number;
    cpu: number;
    userSeconds: number;
    systemSeconds: number;
    backendCpu: number;
    peakOk: boolean;
  }
  const startMeter = (r: Running): Meter => ({
    peakOk: resetPeakRss(r.child.pid),
    proxyCpu: cpuTimes(r.child.pid),
    backendCpu: cpuSeconds(backendsChild.pid),
    t0: process.hrtime.bigint(),
  });
  const readMeter = (r: Running, meter: Meter): Metered => ({
    wall: Number(process.hrtime.bigint() - meter.t0) / 1e9,
    ...cpuSince(r.child.pid, meter.proxyCpu),
    backendCpu: cpuSeconds(backendsChild.pid) - meter.backendCpu,
    peakOk: meter.peakOk,
  });

  /** One run's record from the load generator's result and what was metered over it. */
  const httpRecord = async (
    r: Running,
    round: number,
    load: HttpLoadResult & { raw: string; generatorCpuSeconds: number },
    metered: Metered,
  ): Promise<HttpRun> => {
    const { wall, cpu, userSeconds, systemSeconds, backendCpu, peakOk } = metered;
    const peak = peakRssKiB(r.child.pid);
    if (r.child.hasExited() || cpu < 0) throw new Error('the proxy exited during the run');
    if (!peakOk) settings.peakRssScope = 'lifetime';
    const { raw, generatorCpuSeconds, ...result } = load;
    return {
      ...result,
      output: raw,
      round,
      target: r.target.name,
      cpuSeconds: cpu,
      userSeconds,
      systemSeconds,
      cpuPer10k: result.requests > 0 ? (cpu / result.requests) * 10_000 : Number.NaN,
      cpuPercent: (cpu / wall) * 100,
      backendCpuPercent: (backendCpu / wall) * 100,
      generatorCpuPercent: (generatorCpuSeconds / wall) * 100,
      peakRssKiB: peak,
      backendCounts: await backendStats(),
    };
  };

  const httpRun = async (r: Running, round: number, seconds: number): Promise<HttpRun> => {
    const meter = startMeter(r);
    const load = await runHttpLoad({
      generator: options.load,
      url: `${r.tls ? 'https' : 'http'}://127.0.0.1:${r.port}/`,
      connections: settings.httpConnections,
      seconds,
      dir: scratch,
      label: `${r.tls ? 'https' : 'http'}-${r.target.name}-${round}`,
      root,
    });
    return httpRecord(r, round, load, readMeter(r, meter));
  };

  /**
   * One h2load run: CPU and wall time are taken over h2load's measured period only, after its
   * warm-up on the same connections (the backends' counts include the warm-up's requests).
   */
  const http2Run = async (
    r: Running,
    round: number,
    seconds: number,
    warmupSeconds: number,
  ): Promise<Http2Run> => {
    const clients = settings.http2Clients ?? 1;
    const streams = settings.http2Streams ?? 1;
    let meter: Meter | undefined;
    let metered: Metered | undefined;
    const load = await runH2load({
      url: `https://127.0.0.1:${r.port}/`,
      clients,
      streams,
      seconds,
      warmupSeconds,
      dir: scratch,
      label: `http2-${r.target.name}-${round}`,
      onMeasureStart: () => (meter = startMeter(r)),
      onMeasureEnd: () => (metered = meter && readMeter(r, meter)),
    });
    if (!metered) throw new Error('h2load did not report its measured period');
    // h2load ends its measured period early when every connection has closed (a GOAWAY, or a
    // server that closes after so many requests): such a run measured nothing like the others.
    if (load.requests === 0 || metered.wall < seconds * 0.9) {
      throw new Error(
        `h2load completed ${load.requests} requests in a measured period of ${metered.wall.toFixed(2)} s of ${seconds} s`,
      );
    }
    const { succeeded, failed, errored, timedOut, protocol, tlsProtocol, cipher, ...base } = load;
    const counts = { succeeded, failed, errored, timedOut, protocol, tlsProtocol, cipher };
    return { ...(await httpRecord(r, round, base, metered)), clients, streams, ...counts };
  };

  /** A client process that opens `count` idle WebSocket pairs through the target and holds them. */
  const hold = (target: Target, port: number, count: number, label: string): Child =>
    start(
      'ws-client',
      process.execPath,
      [
        join(jsDir, 'clients', 'ws-client.js'),
        'hold',
        '--url',
        `ws://127.0.0.1:${port}/ws`,
        '--count',
        String(count),
      ],
      join(scratch, `ws-hold-${target.name}-${label}.log`),
      { jsonLines: true },
    );

  /**
   * Memory per proxied WebSocket in the running proxy `r`, whichever way it was prepared: after
   * 1 s to settle its RSS is read, settings.wsIdlePairs idle pairs are opened and held, 2 s later
   * RSS is read again, then the pairs are closed.
   */
  const measureWsMemory = async (
    r: Pick<Running, 'target' | 'child' | 'port'>,
    method: WsMemoryMethod,
  ): Promise<WsMemory> => {
    log(`WebSocket memory ${r.target.name}, ${method}: ${settings.wsIdlePairs} idle pairs`);
    await sleep(1000);
    const before = rssKiB(r.child.pid);
    const client = hold(r.target, r.port, settings.wsIdlePairs, `${method.replace(' ', '-')}-idle`);
    try {
      const ready = await client.waitFor<{ opened: number; failed: number }>('ready', 120_000);
      await sleep(2000);
      const withPairs = rssKiB(r.child.pid);
      if (r.child.hasExited()) throw new Error('the proxy exited during the measurement');
      client.send('close');
      const closed = await client.waitFor<number>('closedEarly', 10_000).catch(() => Number.NaN);
      const memory: WsMemory = {
        target: r.target.name,
        method,
        requested: settings.wsIdlePairs,
        opened: ready.opened,
        failed: ready.failed,
        rssBeforeKiB: before,
        rssWithKiB: withPairs,
        kibPerWebSocket: ready.opened > 0 ? (withPairs - before) / ready.opened : Number.NaN,
        closedEarly: closed,
      };
      log(`  ${memory.kibPerWebSocket.toFixed(1)} KiB per WebSocket (${ready.opened} open)`);
      return memory;
    } finally {
      await stop(client);
    }
  };

  // Warm-up (not recorded), then the HTTP rounds, targets interleaved.
  if (settings.warmupSeconds > 0) {
    for (const r of running.filter(alive)) {
      log(`warm-up ${r.target.name}`);
      await httpRun(r, 0, settings.warmupSeconds).catch((error) => fail(r, 'warm-up', error));
    }
  }
  for (let round = 1; round <= settings.rounds; round++) {
    for (const r of inRoundOrder(running.filter(alive), round)) {
      try {
        const run = await httpRun(r, round, settings.httpSeconds);
        results.http.push(run);
        const errors = run.non2xx + Object.values(run.socketErrors).reduce((a, b) => a + b, 0);
        log(
          `HTTP round ${round} ${r.target.name}: ${Math.round(run.rps)} req/s, p99 ${run.p99Ms.toFixed(2)} ms, ` +
            `CPU ${run.cpuPer10k.toFixed(3)} s/10k${errors > 0 ? `, ${errors} errors` : ''}`,
        );
      } catch (error) {
        fail(r, `HTTP round ${round}`, error);
      }
    }
  }

  // WebSocket ping-pong rounds.
  const wsTargets = running.filter((r) => r.target.websocket);
  for (let round = 1; round <= settings.rounds; round++) {
    for (const r of inRoundOrder(wsTargets.filter(alive), round)) {
      const client = start(
        'ws-client',
        process.execPath,
        [
          join(jsDir, 'clients', 'ws-client.js'),
          'pingpong',
          '--url',
          `ws://127.0.0.1:${r.port}/ws`,
          '--connections',
          String(settings.wsConnections),
          '--seconds',
          String(settings.wsSeconds),
          '--size',
          String(settings.wsMessageBytes),
        ],
        join(scratch, `ws-${r.target.name}-${round}.log`),
        { jsonLines: true },
      );
      try {
        const ready = await client.waitFor<{ opened: number }>('ready', 30_000);
        const peakOk = resetPeakRss(r.child.pid);
        const proxyCpu0 = cpuTimes(r.child.pid);
        const clientCpu0 = cpuSeconds(client.pid);
        const t0 = process.hrtime.bigint();
        client.send('go');
        const result = await client.waitFor<{
          roundTrips: number;
          seconds: number;
          p50Ms: number;
          p99Ms: number;
          errors: number;
        }>('result', (settings.wsSeconds + 30) * 1000);
        const wall = Number(process.hrtime.bigint() - t0) / 1e9;
        const { cpu, userSeconds, systemSeconds } = cpuSince(r.child.pid, proxyCpu0);
        const clientCpu = cpuSeconds(client.pid) - clientCpu0;
        if (r.child.hasExited() || cpu < 0) throw new Error('the proxy exited during the run');
        if (!peakOk) settings.peakRssScope = 'lifetime';
        const run: WsRun = {
          round,
          target: r.target.name,
          connections: settings.wsConnections,
          opened: ready.opened,
          roundTrips: result.roundTrips,
          seconds: result.seconds,
          rtPerSec: result.roundTrips / result.seconds,
          p50Ms: result.p50Ms,
          p99Ms: result.p99Ms,
          errors: result.errors,
          cpuSeconds: cpu,
          userSeconds,
          systemSeconds,
          cpuPer10k: result.roundTrips > 0 ? (cpu / result.roundTrips) * 10_000 : Number.NaN,
          cpuPercent: (cpu / wall) * 100,
          clientCpuPercent: (clientCpu / wall) * 100,
          peakRssKiB: peakRssKiB(r.child.pid),
        };
        results.websocket.push(run);
        log(
          `WebSocket round ${round} ${r.target.name}: ${Math.round(run.rtPerSec)} round trips/s, ` +
            `CPU ${run.cpuPer10k.toFixed(3)} s/10k${run.errors > 0 ? `, ${run.errors} errors` : ''}`,
        );
      } catch (error) {
        fail(r, `WebSocket round ${round}`, error);
      } finally {
        await stop(client);
      }
    }
  }
  // Memory per proxied WebSocket in the processes that served the rounds, before they stop.
  if (settings.wsIdlePairs > 0) {
    for (const r of wsTargets.filter(alive)) {
      try {
        results.wsMemory.push(await measureWsMemory(r, 'after load'));
      } catch (error) {
        fail(r, 'WebSocket memory after load', error);
      }
    }
  }
  for (const r of running) {
    alive(r);
    await stop(r.child);
  }

  let certificate: ReturnType<typeof makeBenchCertificate> | undefined;

  /**
   * One TLS phase: the targets started again with one certificate, checked, warmed up, then the
   * rounds interleaved. A failure is the target's `error` field for this phase (⚠ in its table).
   * Skipped, with the reason in `skip`, without a certificate or when `unavailable` says why.
   */
  const tlsPhase = async <R extends HttpRun>(phase: {
    name: string;
    targets: Target[];
    unavailable?: string;
    skip: (reason: string) => void;
    error: 'tlsError' | 'http2Error';
    check: (port: number, ca: string) => Promise<void>;
    /** Round 0 is the unrecorded warm-up. */
    run: (r: Running, round: number, seconds: number) => Promise<R>;
    /** Where the runs go, made when the phase runs. */
    begin: () => R[];
  }): Promise<void> => {
    if (phase.targets.length === 0) return;
    const skip = (reason: string): void => {
      phase.skip(reason);
      log(`skipping the ${phase.name} rounds: ${reason}`);
    };
    if (phase.unavailable !== undefined) return skip(phase.unavailable);
    const tls = (certificate ??= makeBenchCertificate(scratch));
    if ('unavailable' in tls) return skip(tls.unavailable);
    const record = phase.begin();
    const phaseRunning: Running[] = [];
    for (const target of phase.targets) {
      const info = results.targets.find((candidate) => candidate.name === target.name);
      if (!info) continue;
      try {
        const { child, port } = await launch(target, tls);
        phaseRunning.push({ target, info, child, port, tls: true });
      } catch (error) {
        info[phase.error] = `did not start with TLS: ${(error as Error).message}`;
        log(`${target.name}: ${info[phase.error]}`);
      }
    }
    await sleep(1500);
    const failPhase = async (r: Running, step: string, error: unknown): Promise<void> => {
      const message = error instanceof Error ? error.message : JSON.stringify(error);
      r.info[phase.error] ??= `${step} failed: ${message}`;
      log(`${r.target.name}: ${phase.name} ${step} failed: ${message}`);
      await stop(r.child);
    };
    const phaseAlive = (r: Running): boolean => {
      if (r.child.hasExited()) r.info[phase.error] ??= `exited during the ${phase.name} rounds`;
      return r.info[phase.error] === undefined;
    };
    for (const r of phaseRunning) {
      await phase
        .check(r.port, tls.cert)
        .catch((error: unknown) => failPhase(r, 'correctness check', error));
    }
    if (settings.warmupSeconds > 0) {
      for (const r of phaseRunning.filter(phaseAlive)) {
        await phase
          .run(r, 0, settings.warmupSeconds)
          .catch((error: unknown) => failPhase(r, 'warm-up', error));
      }
    }
    for (let round = 1; round <= settings.rounds; round++) {
      for (const r of inRoundOrder(phaseRunning.filter(phaseAlive), round)) {
        try {
          const run = await phase.run(r, round, settings.httpSeconds);
          record.push(run);
          log(
            `${phase.name} round ${round} ${r.target.name}: ${Math.round(run.rps)} req/s, ` +
              `CPU ${run.cpuPer10k.toFixed(3)} s/10k`,
          );
        } catch (error) {
          await failPhase(r, `round ${round}`, error);
        }
      }
    }
    for (const r of phaseRunning) await stop(r.child);
  };
  // HTTPS rounds: the targets that serve TLS, the same HTTP load over HTTP/1.1 with keep-alive
  // (so handshakes are not what is measured).
  if (options.tls) {
    await tlsPhase({
      name: 'HTTPS',
      targets: usable.filter((target) => target.tls),
      skip: (reason) => (settings.tlsSkipped = reason),
      error: 'tlsError',
      check: (port, ca) => checkHttp(port, settings.backends, ca),
      run: httpRun,
      begin: () => (results.https = []),
    });
  }

  // HTTP/2 rounds: the targets with an HTTP/2 front, h2load over TLS with ALPN h2 only, as many
  // requests in flight as in the HTTP/1.1 rounds, and a short warm-up inside each run.
  if (options.http2) {
    const h2load = which('h2load');
    const warmup = Math.min(1, settings.warmupSeconds);
    await tlsPhase({
      name: 'HTTP/2',
      targets: usable.filter((target) => target.tls && target.http2),
      ...(h2load ? {} : { unavailable: 'h2load is not installed (bench/install-peers.sh)' }),
      skip: (reason) => (settings.http2Skipped = reason),
      error: 'http2Error',
      check: (port, ca) => checkHttp2(port, settings.backends, ca),
      run: (r, round, seconds) => http2Run(r, round, seconds, round === 0 ? 0 : warmup),
      begin: () => {
        settings.http2LoadGeneratorVersion =
          versionLine(h2load ?? 'h2load', ['--version'], /(h2load \S+)/) || 'h2load';
        settings.http2Clients = HTTP2_CLIENTS;
        settings.http2Streams = settings.httpConnections / HTTP2_CLIENTS;
        settings.http2WarmupSeconds = warmup;
        return (results.http2 = []);
      },
    });
  }

  // Memory per proxied WebSocket, each target freshly started and warmed with 50 pairs.
  if (settings.wsIdlePairs > 0) {
    for (const r of wsTargets.filter((x) => x.info.error === undefined)) {
      try {
        const { child, port } = await launch(r.target);
        try {
          await sleep(1000);
          const warm = hold(r.target, port, 50, 'fresh-warmup');
          try {
            await warm.waitFor('ready', 30_000);
          } finally {
            await stop(warm);
          }
          results.wsMemory.push(await measureWsMemory({ target: r.target, child, port }, 'fresh'));
        } finally {
          await stop(child);
        }
      } catch (error) {
        fail(r, 'WebSocket memory fresh', error);
      }
    }
  }
  await stop(backendsChild);

  results.wallSeconds = (Date.now() - started) / 1000;
  results.machine.loadAverage.end = loadavg()[0] ?? 0;
  const md = markdown(results);
  writeFileSync(join(options.out, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(options.out, 'latest.md'), md);
  writeFileSync(join(options.out, 'latest.svg'), svgChart(results));
  process.stdout.write(`\n${md}\n`);
  if (options.out === committedResults && !options.quick) await publish(results);
  log(
    `done in ${results.wallSeconds.toFixed(0)} s; results in ${options.out}/latest.{json,md,svg}`,
  );
}

let stopping = false;
async function shutdown(code: number, reason?: unknown): Promise<never> {
  if (!stopping) {
    stopping = true;
    if (reason !== undefined) {
      log(
        `failed: ${reason instanceof Error ? (reason.stack ?? reason.message) : JSON.stringify(reason)}`,
      );
    }
    await Promise.race([stopAll(), sleep(8000)]);
  }
  killAllNow();
  process.exit(code);
}

process.on('exit', killAllNow);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    log(`${signal}: stopping every process started`);
    void shutdown(130);
  });
}
main().then(
  () => shutdown(0),
  (error: unknown) => shutdown(1, error),
);
