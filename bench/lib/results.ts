// The shape of bench/results/latest.json.

import type { H2loadCounts, HttpLoadResult, LoadGenerator } from './load';

export interface Machine {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  kernel: string;
  node: string;
  clockTicks: number;
  /** 1-minute load average when the run started and when it ended (other work disturbs). */
  loadAverage: { start: number; end: number };
}

export interface Settings {
  mode: 'full' | 'quick';
  rounds: number;
  /** Each round ran the targets in an order rotated by one (absent in runs before 2026-12-07). */
  orderRotated?: boolean;
  loadGenerator: LoadGenerator;
  loadGeneratorVersion: string;
  httpConnections: number;
  httpSeconds: number;
  warmupSeconds: number;
  wsConnections: number;
  wsMessageBytes: number;
  wsSeconds: number;
  wsIdlePairs: number;
  backends: number;
  backendBodyBytes: number;
  /** 'run' when VmHWM was reset before each run, 'lifetime' when that was not allowed. */
  peakRssScope: 'run' | 'lifetime';
  /** Why the HTTPS rounds did not run, when they were asked for. */
  tlsSkipped?: string;
  /** The HTTP/2 rounds' h2load: version, connections, streams in flight on each, and the
   * unmeasured load before each run's measured period on the same connections. */
  http2LoadGeneratorVersion?: string;
  http2Clients?: number;
  http2Streams?: number;
  http2WarmupSeconds?: number;
  /** Why the HTTP/2 rounds did not run, when they were asked for. */
  http2Skipped?: string;
}

export interface TargetInfo {
  name: string;
  version: string;
  websocket: boolean;
  /** VmRSS of the process tree after start-up, before any load. */
  idleRssKiB: number;
  /** Set when the target failed to start, answer correctly, or died during the runs. */
  error?: string;
  /** The same for its HTTPS rounds. */
  tlsError?: string;
  /** Has an HTTP/2 front (ALPN h2 on its TLS port); absent in results before the HTTP/2 rounds. */
  http2?: boolean;
  /** The same as `error` for its HTTP/2 rounds. */
  http2Error?: string;
}

export interface HttpRun extends HttpLoadResult {
  round: number;
  target: string;
  cpuSeconds: number;
  /** The part of cpuSeconds in user mode and in the kernel (absent in results before 2026-12-07). */
  userSeconds?: number;
  systemSeconds?: number;
  cpuPer10k: number;
  /** Proxy CPU time / wall time of the run, in percent of one core. */
  cpuPercent: number;
  /** The backends' process, same unit: shows when the backends rather than the proxy limit. */
  backendCpuPercent: number;
  /** The load generator's process, same unit (sampled every 200 ms, so slightly low). */
  generatorCpuPercent: number;
  peakRssKiB: number;
  /** Requests each backend received during the run (round-robin check). */
  backendCounts: number[];
  /** The load generator's own output. */
  output: string;
}

/** One h2load run: the HttpRun figures over its measured period, and h2load's own counts. */
export interface Http2Run extends HttpRun, H2loadCounts {
  clients: number;
  streams: number;
}

export interface WsRun {
  round: number;
  target: string;
  connections: number;
  opened: number;
  roundTrips: number;
  seconds: number;
  rtPerSec: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  cpuSeconds: number;
  /** The part of cpuSeconds in user mode and in the kernel (absent in results before 2026-12-07). */
  userSeconds?: number;
  systemSeconds?: number;
  cpuPer10k: number;
  cpuPercent: number;
  /** The WebSocket client's process, same unit. */
  clientCpuPercent: number;
  peakRssKiB: number;
}

/**
 * How the proxy was prepared before the idle pairs were opened: 'fresh', a newly started
 * process after a warm-up of 50 pairs; 'after load', the process that had just served the HTTP
 * and WebSocket throughput rounds.
 */
export type WsMemoryMethod = 'fresh' | 'after load';

export interface WsMemory {
  target: string;
  /** Absent from files written before both methods were measured: those are all 'fresh'. */
  method: WsMemoryMethod;
  requested: number;
  opened: number;
  failed: number;
  rssBeforeKiB: number;
  rssWithKiB: number;
  kibPerWebSocket: number;
  /** Connections that closed while they should have stayed open. */
  closedEarly: number;
}

export interface Results {
  date: string;
  wallSeconds: number;
  machine: Machine;
  settings: Settings;
  targets: TargetInfo[];
  skipped: { name: string; reason: string }[];
  http: HttpRun[];
  websocket: WsRun[];
  wsMemory: WsMemory[];
  /** HTTP/1.1 over TLS, the same load as `http`; absent when the HTTPS rounds did not run. */
  https?: HttpRun[];
  /** HTTP/2 over TLS from h2load; absent when the HTTP/2 rounds did not run. */
  http2?: Http2Run[];
}

/** Results read from a saved file, with what older files lack filled in. */
export function parseResults(text: string): Results {
  const results = JSON.parse(text) as Results;
  // Files written before the field existed have no method: they measured fresh proxies only.
  for (const memory of results.wsMemory as Partial<WsMemory>[]) memory.method ??= 'fresh';
  return results;
}
