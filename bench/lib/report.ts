// Markdown tables and an SVG bar chart from the raw results.

import type { Http2Run, HttpRun, Results, WsMemory, WsMemoryMethod, WsRun } from './results';
import { max, median, min } from './stats';

export interface HttpSummary {
  target: string;
  rounds: number;
  rpsMedian: number;
  rpsMin: number;
  rpsMax: number;
  p50Ms: number;
  p99Ms: number;
  cpuPer10k: number;
  userPer10k: number;
  systemPer10k: number;
  cpuPercent: number;
  backendCpuPercent: number;
  generatorCpuPercent: number;
  peakRssKiB: number;
  idleRssKiB: number;
  errors: string[];
}

export interface WsSummary {
  target: string;
  rounds: number;
  rtMedian: number;
  rtMin: number;
  rtMax: number;
  p50Ms: number;
  p99Ms: number;
  cpuPer10k: number;
  userPer10k: number;
  systemPer10k: number;
  cpuPercent: number;
  clientCpuPercent: number;
  errors: string[];
}

/** Seconds per 10 000 of `count`; NaN for results that did not record the split. */
const per10k = (seconds: number | undefined, count: number): number =>
  seconds === undefined || count <= 0 ? Number.NaN : (seconds / count) * 10_000;

function httpErrors(run: HttpRun): string | undefined {
  const e = run.socketErrors;
  const parts: string[] = [];
  if (run.non2xx > 0) parts.push(`${run.non2xx} responses ≥ 400`);
  for (const [kind, count] of Object.entries(e)) {
    if (count > 0) parts.push(`${count} socket ${kind} errors`);
  }
  return parts.length > 0 ? `round ${run.round}: ${parts.join(', ')}` : undefined;
}

/** h2load's failed requests of a run, which the HTTP/2 table flags. */
function http2Errors(run: Http2Run): string | undefined {
  if (run.failed === 0 && run.errored === 0 && run.timedOut === 0) return undefined;
  return (
    `round ${run.round}: ${run.failed} of ${run.requests} requests failed ` +
    `(${run.non2xx} responses ≥ 400, ${run.errored} errored, ${run.timedOut} timed out)`
  );
}

/** Which rounds: plain HTTP/1.1, HTTP/1.1 over TLS, HTTP/2 over TLS. */
export type HttpKind = 'http' | 'https' | 'http2';

/** Per target, the rounds of one kind. */
export function summarizeHttp(results: Results, kind: HttpKind = 'http'): HttpSummary[] {
  const all: HttpRun[] =
    kind === 'http' ? results.http : ((kind === 'https' ? results.https : results.http2) ?? []);
  const describe = (run: HttpRun): string | undefined =>
    kind === 'http2' ? http2Errors(run as Http2Run) : httpErrors(run);
  return results.targets
    .map((target) => {
      const runs = all.filter((run) => run.target === target.name);
      const error = { http: target.error, https: target.tlsError, http2: target.http2Error }[kind];
      return {
        target: target.name,
        rounds: runs.length,
        rpsMedian: median(runs.map((r) => r.rps)),
        rpsMin: min(runs.map((r) => r.rps)),
        rpsMax: max(runs.map((r) => r.rps)),
        p50Ms: median(runs.map((r) => r.p50Ms)),
        p99Ms: median(runs.map((r) => r.p99Ms)),
        cpuPer10k: median(runs.map((r) => r.cpuPer10k)),
        userPer10k: median(runs.map((r) => per10k(r.userSeconds, r.requests))),
        systemPer10k: median(runs.map((r) => per10k(r.systemSeconds, r.requests))),
        cpuPercent: median(runs.map((r) => r.cpuPercent)),
        backendCpuPercent: median(runs.map((r) => r.backendCpuPercent)),
        generatorCpuPercent: median(runs.map((r) => r.generatorCpuPercent)),
        peakRssKiB: max(runs.map((r) => r.peakRssKiB)),
        // Measured on the plain instance only.
        idleRssKiB: kind === 'http' ? target.idleRssKiB : Number.NaN,
        errors: [
          ...(error ? [error] : []),
          ...runs.map(describe).filter((e): e is string => e !== undefined),
        ],
      };
    })
    .filter((s) => s.rounds > 0 || s.errors.length > 0);
}

export function summarizeWs(results: Results): WsSummary[] {
  const names = [...new Set(results.websocket.map((run) => run.target))];
  return names.map((name) => {
    const runs: WsRun[] = results.websocket.filter((run) => run.target === name);
    return {
      target: name,
      rounds: runs.length,
      rtMedian: median(runs.map((r) => r.rtPerSec)),
      rtMin: min(runs.map((r) => r.rtPerSec)),
      rtMax: max(runs.map((r) => r.rtPerSec)),
      p50Ms: median(runs.map((r) => r.p50Ms)),
      p99Ms: median(runs.map((r) => r.p99Ms)),
      cpuPer10k: median(runs.map((r) => r.cpuPer10k)),
      userPer10k: median(runs.map((r) => per10k(r.userSeconds, r.roundTrips))),
      systemPer10k: median(runs.map((r) => per10k(r.systemSeconds, r.roundTrips))),
      cpuPercent: median(runs.map((r) => r.cpuPercent)),
      clientCpuPercent: median(runs.map((r) => r.clientCpuPercent)),
      errors: runs
        .filter((r) => r.errors > 0 || r.opened < r.connections)
        .map(
          (r) =>
            `round ${r.round}: ${r.errors} errors, ${r.opened}/${r.connections} connections opened`,
        ),
    };
  });
}

const oneLine = (text: string): string => text.replace(/\s*\n\s*/g, ' / ');
const int = (n: number): string =>
  Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—';
const fixed = (n: number, digits: number): string => (Number.isFinite(n) ? n.toFixed(digits) : '—');
const mib = (kib: number): string => fixed(kib / 1024, 1);
const split = (cpu: { userPer10k: number; systemPer10k: number }): string =>
  Number.isFinite(cpu.userPer10k)
    ? `${fixed(cpu.userPer10k, 3)} / ${fixed(cpu.systemPer10k, 3)}`
    : '—';

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

function ratios(
  label: string,
  values: { target: string; value: number }[],
  ours = 'rxproxy',
): string | undefined {
  const mine = values.find((v) => v.target === ours)?.value;
  if (mine === undefined || !Number.isFinite(mine)) return undefined;
  const parts = values
    // Variants of rxproxy have their own line (variantCosts), not a peer's ratio.
    .filter((v) => !v.target.startsWith(`${ours}-`) && v.target !== ours)
    .filter((v) => Number.isFinite(v.value) && v.value > 0)
    .map((v) => `${ours} / ${v.target} ${label}: ${(mine / v.value).toFixed(2)}×`);
  return parts.length > 0 ? parts.join(' · ') : undefined;
}

/**
 * What a variant of rxproxy (rxproxy-admin, rxproxy-hooks, rxproxy-baseline) costs against plain
 * rxproxy: the ratio of each interleaved round, then the median and the spread of the rounds.
 */
export function variantCosts(results: Results): string[] {
  const plain = results.http.filter((run) => run.target === 'rxproxy');
  const variants = [...new Set(results.http.map((run) => run.target))].filter((name) =>
    name.startsWith('rxproxy-'),
  );
  return variants.flatMap((variant) => {
    const pairs = results.http
      .filter((run) => run.target === variant)
      .flatMap((run) => {
        const base = plain.find((candidate) => candidate.round === run.round);
        return base ? [{ rps: run.rps / base.rps, cpu: run.cpuPer10k / base.cpuPer10k }] : [];
      });
    if (pairs.length === 0) return [];
    const describe = (values: number[]) =>
      `${fixed(median(values), 2)}× (rounds ${fixed(min(values), 2)}–${fixed(max(values), 2)})`;
    return [
      `${variant} / rxproxy over ${pairs.length} round${pairs.length === 1 ? '' : 's'}: req/s ${describe(pairs.map((p) => p.rps))}, CPU per request ${describe(pairs.map((p) => p.cpu))}`,
    ];
  });
}

/** Peers whose CPU per request rxproxy is measured against round by round. */
const cpuReferences = ['node-floor', 'nginx', 'haproxy'];

interface RoundFigure {
  round: number;
  target: string;
}

/**
 * rxproxy's `value` over `reference`'s, round by round: the median and the spread of the
 * rounds, which say more on a busy machine than the ratio of two medians.
 */
function roundRatio<R extends RoundFigure>(
  runs: readonly R[],
  reference: string,
  value: (run: R) => number,
  label: string,
): string | undefined {
  const ours = runs.filter((run) => run.target === 'rxproxy');
  const values = runs
    .filter((run) => run.target === reference)
    .flatMap((run) => {
      const mine = ours.find((candidate) => candidate.round === run.round);
      return mine && value(run) > 0 ? [value(mine) / value(run)] : [];
    })
    .filter((ratio) => Number.isFinite(ratio));
  if (values.length === 0) return undefined;
  return `rxproxy / ${reference} ${label}: ${fixed(median(values), 2)}× (rounds ${fixed(min(values), 2)}–${fixed(max(values), 2)})`;
}

/** rxproxy's CPU per request (or round trip) over each reference's, round by round. */
export function cpuRoundRatios(
  runs: readonly (RoundFigure & { cpuPer10k: number })[],
  what: string,
): string | undefined {
  const parts = cpuReferences
    .map((reference) => roundRatio(runs, reference, (run) => run.cpuPer10k, what))
    .filter((part): part is string => part !== undefined);
  return parts.length > 0 ? parts.join(' · ') : undefined;
}

/** rxproxy's req/s over TLS at least this many times node-http-proxy's is the aim. */
export const TLS_AIM_VS_NODE_HTTP_PROXY = 1.3;

/** rxproxy's req/s over node-http-proxy's in the HTTPS rounds, round by round, and the aim. */
export function tlsAimRatio(results: Results): string | undefined {
  const line = roundRatio(
    results.https ?? [],
    'node-http-proxy',
    (run) => run.rps,
    'req/s over TLS round by round',
  );
  return line && `${line}; the aim is at least ${TLS_AIM_VS_NODE_HTTP_PROXY.toFixed(1)}×`;
}

interface Ratios {
  http?: string;
  https?: string;
  http2?: string;
  websocket?: string;
  wsMemory?: string;
}

/** rxproxy's figures over each peer's, one line per test: the headline of a run. */
export function headlineRatios(results: Results): Ratios {
  return {
    http: ratios(
      'req/s',
      summarizeHttp(results).map((h) => ({ target: h.target, value: h.rpsMedian })),
    ),
    https: ratios(
      'req/s over TLS',
      summarizeHttp(results, 'https').map((h) => ({ target: h.target, value: h.rpsMedian })),
    ),
    http2: ratios(
      'req/s over HTTP/2',
      summarizeHttp(results, 'http2').map((h) => ({ target: h.target, value: h.rpsMedian })),
    ),
    websocket: ratios(
      'round trips/s',
      summarizeWs(results).map((w) => ({ target: w.target, value: w.rtMedian })),
    ),
    // After load when rxproxy has that figure: it is what a proxy in service holds.
    wsMemory: wsMemoryRatios(results, 'after load') ?? wsMemoryRatios(results, 'fresh'),
  };
}

function wsMemoryRatios(results: Results, method: WsMemoryMethod): string | undefined {
  return ratios(
    `KiB per WebSocket ${method}`,
    results.wsMemory
      .filter((w) => w.method === method)
      .map((w) => ({ target: w.target, value: w.kibPerWebSocket })),
  );
}

const methodOrder: WsMemoryMethod[] = ['fresh', 'after load'];

/** The memory rows of each target together, in the order of the targets, fresh first. */
function wsMemoryRows(results: Results): WsMemory[] {
  const targetIndex = (w: WsMemory): number => {
    const at = results.targets.findIndex((t) => t.name === w.target);
    return at < 0 ? results.targets.length : at;
  };
  return [...results.wsMemory].sort(
    (a, b) =>
      targetIndex(a) - targetIndex(b) ||
      methodOrder.indexOf(a.method) - methodOrder.indexOf(b.method),
  );
}

const CPU_NOTE =
  'CPU % is of one core. A proxy well below 100 % was held back by something else (the backends, ' +
  'the load generator, the cores they all share), so its req/s understates it: compare CPU per 10k requests. ' +
  'User / sys splits that CPU into user mode and kernel (syscalls, and on loopback the receiving side of each write).';

/** Extra columns after the common ones. */
interface Columns {
  header: string[];
  cells: (h: HttpSummary) => string[];
}

function httpTable(http: HttpSummary[], generator: string, extra?: Columns): string {
  return table(
    [
      'target',
      'req/s median (min–max)',
      'p50 ms',
      'p99 ms',
      'proxy CPU s / 10k req',
      'user / sys',
      'proxy CPU %',
      'backends CPU %',
      `${generator} CPU %`,
      'peak RSS MiB',
      'idle RSS MiB',
      ...(extra?.header ?? []),
    ],
    http.map((h) => [
      h.errors.length > 0 ? `${h.target} ⚠` : h.target,
      `${int(h.rpsMedian)} (${int(h.rpsMin)}–${int(h.rpsMax)})`,
      fixed(h.p50Ms, 2),
      fixed(h.p99Ms, 2),
      fixed(h.cpuPer10k, 3),
      split(h),
      fixed(h.cpuPercent, 0),
      fixed(h.backendCpuPercent, 0),
      fixed(h.generatorCpuPercent, 0),
      mib(h.peakRssKiB),
      mib(h.idleRssKiB),
      ...(extra?.cells(h) ?? []),
    ]),
  );
}

const errorLines = (rows: HttpSummary[]): string[] =>
  rows
    .filter((x) => x.errors.length > 0)
    .flatMap((h) => ['', `⚠ ${h.target}: ${oneLine(h.errors.join('; '))}`]);

/** The HTTPS rounds' table and ratios, or why they did not run; nothing when not asked for. */
function httpsSection(results: Results): string[] {
  const s = results.settings;
  const https = summarizeHttp(results, 'https');
  if (s.tlsSkipped !== undefined) {
    return ['', '### HTTPS (HTTP/1.1 over TLS)', '', `Not run: ${s.tlsSkipped}.`];
  }
  if (https.length === 0) return [];
  const out = [
    '',
    '### HTTPS (HTTP/1.1 over TLS)',
    '',
    `The same load over TLS to the proxy: every target serves one self-signed ECDSA P-256 certificate ` +
      `for 127.0.0.1 and ${s.loadGenerator} keeps its ${s.httpConnections} connections alive, so what is ` +
      'measured is the encryption of requests and responses, not handshakes. Backends stay plain HTTP.',
    '',
    httpTable(https, s.loadGenerator),
  ];
  const { https: rps } = headlineRatios(results);
  if (rps) out.push('', rps);
  const aim = tlsAimRatio(results);
  if (aim) out.push('', aim);
  const cpu = cpuRoundRatios(results.https ?? [], 'CPU per request over TLS');
  if (cpu) out.push('', cpu);
  out.push(...errorLines(https));
  return out;
}

/** `value` of each row over nginx's, or — when either is missing. */
function versusNginx(
  rows: HttpSummary[],
  value: (h: HttpSummary) => number,
): (h: HttpSummary) => string {
  const nginx = rows.find((h) => h.target === 'nginx');
  return (h: HttpSummary): string => {
    const ratio = nginx ? value(h) / value(nginx) : Number.NaN;
    return Number.isFinite(ratio) ? `${ratio.toFixed(2)}×` : '—';
  };
}

/** The HTTP/2 rounds' table and ratios, or why they did not run; nothing when not asked for. */
function http2Section(results: Results): string[] {
  const s = results.settings;
  const title = '### HTTP/2 over TLS';
  if (s.http2Skipped !== undefined) return ['', title, '', `Not run: ${s.http2Skipped}.`];
  const http2 = summarizeHttp(results, 'http2');
  if (results.http2 === undefined) return [];
  const negotiated = [
    ...new Set(results.http2.map((run) => `${run.tlsProtocol} ${run.cipher}`.trim())),
  ].filter(Boolean);
  const clients = s.http2Clients ?? Number.NaN;
  const streams = s.http2Streams ?? Number.NaN;
  const rps = versusNginx(http2, (h) => h.rpsMedian);
  const cpu = versusNginx(http2, (h) => h.cpuPer10k);
  const out = [
    '',
    title,
    '',
    `${s.http2LoadGeneratorVersion ?? 'h2load'} with ALPN h2 only, ${clients} connections × ${streams} streams ` +
      `in flight on each (${clients * streams} requests in flight, as many as the ${s.httpConnections} ` +
      `connections of the HTTP/1.1 rounds), ${s.httpSeconds} s measured per run after ` +
      `${s.http2WarmupSeconds ?? 0} s of unmeasured load on the same connections; the proxy's CPU is ` +
      `taken over the measured period only. Same certificate as the HTTPS rounds` +
      `${negotiated.length > 0 ? ` (negotiated: ${negotiated.join(', ')})` : ''}; backends stay HTTP/1.1. ` +
      "Latencies are from h2load's request log. A run with failed requests is flagged ⚠.",
    '',
  ];
  if (http2.length > 0) {
    out.push(
      httpTable(http2, 'h2load', {
        header: ['req/s / nginx', 'CPU per req / nginx'],
        cells: (h) => [rps(h), cpu(h)],
      }),
    );
  }
  const absent = results.targets.filter((t) => t.http2 === false).map((t) => t.name);
  if (absent.length > 0) out.push('', `No HTTP/2 front, not measured: ${absent.join(', ')}.`);
  const { http2: ratio } = headlineRatios(results);
  if (ratio) out.push('', ratio);
  const cpuRatio = cpuRoundRatios(results.http2, 'CPU per request over HTTP/2');
  if (cpuRatio) out.push('', cpuRatio);
  out.push(...errorLines(http2));
  return out;
}

export interface MarkdownOptions {
  /** Path of the chart to show under the machine line; no chart when absent. */
  chart?: string;
}

export function markdown(results: Results, options: MarkdownOptions = {}): string {
  const { machine: m, settings: s } = results;
  const http = summarizeHttp(results);
  const ws = summarizeWs(results);
  const headline = headlineRatios(results);
  const out: string[] = [];
  out.push(
    `**rxproxy benchmark**, ${results.date} (${s.mode} mode: ${s.rounds} round${s.rounds === 1 ? '' : 's'}, targets interleaved in each round${s.orderRotated ? ', order rotated each round' : ''})`,
    '',
    `Machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB.toFixed(0)} GiB, Linux ${m.kernel}, Node ${m.node}, ` +
      `load average ${fixed(m.loadAverage.start, 2)} at the start and ${fixed(m.loadAverage.end, 2)} at the end. ` +
      `Everything on 127.0.0.1: two keep-alive Node backends answering ${s.backendBodyBytes}-byte JSON (one process), ` +
      `each proxy in its own process, the load generator in another.`,
    '',
  );
  if (options.chart !== undefined) out.push(chartImage(options.chart), '');
  out.push(
    '### HTTP',
    '',
    `${s.loadGeneratorVersion}, ${s.loadGenerator === 'wrk' ? '1 thread, ' : ''}${s.httpConnections} connections, ` +
      `${s.httpSeconds} s per run after a ${s.warmupSeconds} s warm-up; GET / round-robin over both backends. ` +
      `Latencies and CPU are medians over the rounds; peak RSS is the largest ${s.peakRssScope === 'run' ? 'per-run VmHWM' : 'VmHWM since start'}.`,
    '',
  );
  out.push(httpTable(http, s.loadGenerator));
  out.push('', CPU_NOTE);
  if (headline.http) out.push('', headline.http);
  const httpCpu = cpuRoundRatios(results.http, 'CPU per request');
  if (httpCpu) out.push('', httpCpu);
  for (const line of variantCosts(results)) out.push('', line);
  const flagged = http.filter((h) => h.errors.length > 0);
  if (flagged.length > 0) {
    out.push('', '⚠ errors:');
    for (const h of flagged) out.push(`- ${h.target}: ${oneLine(h.errors.join('; '))}`);
  } else {
    out.push('', 'No target had a non-2xx response or a socket error.');
  }
  out.push(...httpsSection(results));
  out.push(...http2Section(results));

  if (ws.length > 0) {
    out.push(
      '',
      '### WebSocket',
      '',
      `${s.wsConnections} connections from a Node \`ws\` client process, each sending a ${s.wsMessageBytes}-byte ` +
        `binary message as soon as the echo of the previous one arrives, ${s.wsSeconds} s per run.`,
      '',
      table(
        [
          'target',
          'round trips/s median (min–max)',
          'p50 ms',
          'p99 ms',
          'proxy CPU s / 10k rt',
          'user / sys',
          'proxy CPU %',
          'client CPU %',
        ],
        ws.map((w) => [
          w.errors.length > 0 ? `${w.target} ⚠` : w.target,
          `${int(w.rtMedian)} (${int(w.rtMin)}–${int(w.rtMax)})`,
          fixed(w.p50Ms, 2),
          fixed(w.p99Ms, 2),
          fixed(w.cpuPer10k, 3),
          split(w),
          fixed(w.cpuPercent, 0),
          fixed(w.clientCpuPercent, 0),
        ]),
      ),
    );
    if (headline.websocket) out.push('', headline.websocket);
    const wsCpu = cpuRoundRatios(results.websocket, 'CPU per round trip');
    if (wsCpu) out.push('', wsCpu);
    for (const w of ws.filter((x) => x.errors.length > 0)) {
      out.push('', `⚠ ${w.target}: ${w.errors.join('; ')}`);
    }
  }

  if (results.wsMemory.length > 0) {
    const pairs = s.wsIdlePairs.toLocaleString('en-US');
    const methods = new Set(results.wsMemory.map((w) => w.method));
    out.push(
      '',
      '### Memory per proxied WebSocket',
      '',
      `${pairs} idle client ↔ backend WebSocket pairs opened through the proxy and held; ` +
        'KiB per WebSocket = (RSS with them − RSS before) / pairs open. ' +
        "RSS is VmRSS from /proc of the proxy's process and its children (nginx's master and worker), " +
        'all of it: JavaScript heap, native memory, the buffers the proxy keeps for its sockets; ' +
        "not the kernel's socket buffers. Method:",
      '',
    );
    if (methods.has('fresh')) {
      out.push(
        '- fresh: a newly started proxy, after a warm-up of 50 pairs opened and closed, nothing else.',
      );
    }
    if (methods.has('after load')) {
      out.push(
        '- after load: the same proxy process that just served the HTTP and WebSocket rounds, ' +
          'just before it was stopped (its heap and pools are as the load left them).',
      );
    }
    out.push(
      '',
      table(
        [
          'target',
          'method',
          'pairs open',
          'RSS before MiB',
          'RSS with pairs MiB',
          'KiB per WebSocket',
        ],
        wsMemoryRows(results).map((w) => [
          w.failed > 0 || w.closedEarly > 0 ? `${w.target} ⚠` : w.target,
          w.method,
          `${w.opened.toLocaleString('en-US')}${w.failed > 0 ? ` (${w.failed} failed)` : ''}`,
          mib(w.rssBeforeKiB),
          mib(w.rssWithKiB),
          fixed(w.kibPerWebSocket, 1),
        ]),
      ),
    );
    if (headline.wsMemory) out.push('', headline.wsMemory);
  }

  out.push('', '### Targets', '');
  for (const t of results.targets) {
    out.push(`- ${t.name}: ${t.version}${t.error ? ' (⚠ see the errors above)' : ''}`);
  }
  for (const t of results.skipped) out.push(`- ${t.name}: skipped, ${t.reason}`);
  out.push('');
  return out.join('\n');
}

const chartImage = (path: string): string => `![Median HTTP requests per second](${path})`;

/** The README's part of a run: the chart and the headline ratios; the tables live elsewhere. */
export function readmeSummary(results: Results, chart: string): string {
  const { http, https, http2, websocket, wsMemory } = headlineRatios(results);
  const lines = [http, https, http2, websocket, wsMemory].filter(
    (line): line is string => line !== undefined,
  );
  return [chartImage(chart), ...lines].join('\n\n') + '\n';
}

export const BENCH_START = '<!-- bench:start -->';
export const BENCH_END = '<!-- bench:end -->';

const BENCH_BLOCK = new RegExp(`^${BENCH_START}$[\\s\\S]*?^${BENCH_END}$`, 'm');

/** What lies between the bench markers (each on a line of its own), or undefined. */
export function benchBlock(document: string): string | undefined {
  const found = BENCH_BLOCK.exec(document)?.[0];
  return found?.slice(BENCH_START.length, -BENCH_END.length).trim();
}

/** `document` with what lies between its bench markers replaced by `block`. */
export function replaceBenchBlock(document: string, block: string): string {
  if (!BENCH_BLOCK.test(document)) throw new Error(`no ${BENCH_START} … ${BENCH_END} block`);
  return document.replace(BENCH_BLOCK, () => `${BENCH_START}\n\n${block.trim()}\n\n${BENCH_END}`);
}

const escapeXml = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Horizontal bars of median req/s per target, with min–max whiskers. */
export function svgChart(results: Results): string {
  const rows = summarizeHttp(results).filter((h) => Number.isFinite(h.rpsMedian));
  const width = 720;
  const left = 150;
  const right = 110;
  const top = 56;
  const rowHeight = 40;
  const barHeight = 24;
  const height = top + rows.length * rowHeight + 36;
  const top10 = max(rows.map((r) => r.rpsMax));
  const scaleMax = top10 > 0 ? niceCeiling(top10) : 1;
  const x = (value: number): number => left + ((width - left - right) * value) / scaleMax;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="13">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${left}" y="22" font-size="15" font-weight="bold">HTTP requests per second (median of ${results.settings.rounds}, min–max whiskers)</text>`,
    `<text x="${left}" y="40" fill="#555555">${escapeXml(`${results.settings.loadGeneratorVersion}, ${results.settings.httpConnections} connections, ${results.machine.cores} cores ${results.machine.cpuModel}, ${results.date.slice(0, 10)}`)}</text>`,
  );
  for (let i = 0; i <= 4; i++) {
    const value = (scaleMax * i) / 4;
    const gx = x(value).toFixed(1);
    parts.push(
      `<line x1="${gx}" y1="${top - 6}" x2="${gx}" y2="${height - 30}" stroke="#e3e3e3"/>`,
      `<text x="${gx}" y="${height - 14}" text-anchor="middle" fill="#555555">${int(value)}</text>`,
    );
  }
  rows.forEach((row, i) => {
    const y = top + i * rowHeight;
    const mid = y + barHeight / 2;
    const ours = row.target === 'rxproxy';
    const label = row.errors.length > 0 ? `${row.target} ⚠` : row.target;
    parts.push(
      `<text x="${left - 10}" y="${mid + 4}" text-anchor="end"${ours ? ' font-weight="bold"' : ''}>${escapeXml(label)}</text>`,
      `<rect x="${left}" y="${y}" width="${(x(row.rpsMedian) - left).toFixed(1)}" height="${barHeight}" fill="${ours ? '#d9480f' : '#4c6ef5'}"/>`,
      `<line x1="${x(row.rpsMin).toFixed(1)}" y1="${mid}" x2="${x(row.rpsMax).toFixed(1)}" y2="${mid}" stroke="#222222" stroke-width="1.5"/>`,
      `<line x1="${x(row.rpsMin).toFixed(1)}" y1="${mid - 6}" x2="${x(row.rpsMin).toFixed(1)}" y2="${mid + 6}" stroke="#222222" stroke-width="1.5"/>`,
      `<line x1="${x(row.rpsMax).toFixed(1)}" y1="${mid - 6}" x2="${x(row.rpsMax).toFixed(1)}" y2="${mid + 6}" stroke="#222222" stroke-width="1.5"/>`,
      `<text x="${(Math.max(x(row.rpsMax), x(row.rpsMedian)) + 8).toFixed(1)}" y="${mid + 4}">${int(row.rpsMedian)}</text>`,
    );
  });
  parts.push('</svg>', '');
  return parts.join('\n');
}

/** The smallest 1, 2, 2.5, 5 or 10 times a power of ten that is at least `value`. */
function niceCeiling(value: number): number {
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}
