// What a Prometheus scrape and a counted event cost: a real proxy with 100 servers (loopback
// ports nobody listens on, min_workers=0, no health checks: nothing connects), its metrics fed
// 10,000 request events, then 200 timed scrapes; and ns per observe() of a request event.
//
//   npm run bench:scrape

import { parseConfigText } from '../src/adapters/configFile';
import { formatProblem } from '../src/config';
import type { ProxyEvent } from '../src/events';
import { createMetrics, type ProxyMetrics } from '../src/observability/metrics';
import { TrafficStats } from '../src/observability/trafficStats';
import { createProxy } from '../src/proxy';
import { cpus, loadavg } from 'node:os';
import { median } from './lib/stats';

const SERVERS = 100;
const EVENTS = 10_000;
const WARMUP_SCRAPES = 20;
const SCRAPES = 200;
const OBSERVES_PER_ROUND = 1_000_000;
const ROUNDS = 5;

function config() {
  const servers = Array.from(
    { length: SERVERS },
    (_, i) => `server${i + 1}=127.0.0.1:${20001 + i}`,
  );
  const ini = `[frontend]\nhost=127.0.0.1\nport=0\n[http]\nmin_workers=0\n${servers.join('\n')}\n`;
  const result = parseConfigText(ini, 'metrics-scrape.ini', {});
  if (!result.ok) throw new Error(result.problems.map(formatProblem).join('\n'));
  return result.config;
}

/** Request events over every server: mostly 2xx, some 4xx and 5xx, a few the proxy answered. */
function requestEvents(count: number): ProxyEvent[] {
  const statuses = [200, 200, 200, 200, 200, 200, 304, 404, 499, 502];
  return Array.from({ length: count }, (_, i): ProxyEvent => {
    const rejected = i % 50 === 49;
    return {
      type: 'request',
      pool: 'http',
      method: 'GET',
      url: `/items/${i}`,
      backend: `server${(i % SERVERS) + 1}`,
      status: rejected ? 503 : (statuses[i % statuses.length] ?? 200),
      durationMs: (i % 997) * 0.9,
      ...(rejected ? { rejected: 'queue_timeout' } : {}),
    };
  });
}

const percentile = (sorted: readonly number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;

async function timeScrapes(metrics: ProxyMetrics): Promise<void> {
  let text = '';
  for (let i = 0; i < WARMUP_SCRAPES; i++) text = await metrics.scrape();
  const times: number[] = [];
  for (let i = 0; i < SCRAPES; i++) {
    const start = performance.now();
    await metrics.scrape();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  const lines = text.split('\n').filter((line) => line !== '' && !line.startsWith('#')).length;
  console.log(
    `scrape: ${SERVERS} servers, ${EVENTS} request events, ${SCRAPES} scrapes after ${WARMUP_SCRAPES} warm-up`,
  );
  console.log(`  ${lines} samples, ${Buffer.byteLength(text)} bytes`);
  const ms = (value: number) => `${value.toFixed(2)} ms`;
  console.log(
    `  median ${ms(median(times))}, p90 ${ms(percentile(times, 90))}, max ${ms(times[times.length - 1] ?? NaN)}`,
  );
}

/** ns per call of `observe` over OBSERVES_PER_ROUND events, median of ROUNDS (after one warm-up). */
function nsPerObserve(observe: (event: ProxyEvent) => void, events: readonly ProxyEvent[]): number {
  const round = (): number => {
    const start = process.hrtime.bigint();
    for (let i = 0; i < OBSERVES_PER_ROUND; i++) observe(events[i % events.length] as ProxyEvent);
    return Number(process.hrtime.bigint() - start) / OBSERVES_PER_ROUND;
  };
  round();
  return median(Array.from({ length: ROUNDS }, round));
}

async function main(): Promise<void> {
  const load = () => loadavg()[0]?.toFixed(2) ?? '?';
  console.log(
    `${cpus().length} cores, Node ${process.version}, load average ${load()} at the start`,
  );
  const proxyConfig = config();
  const buckets = proxyConfig.admin.metricsBuckets;
  const proxy = createProxy(proxyConfig);
  await proxy.start();
  const metrics = createMetrics({ buckets, live: proxy.live });
  try {
    for (const event of requestEvents(EVENTS)) metrics.observe(event);
    await timeScrapes(metrics);

    const events = requestEvents(1000).filter((event) => !('rejected' in event));
    const stats = new TrafficStats(buckets);
    console.log(
      `observe (request event served by a server): ${OBSERVES_PER_ROUND} per round, median of ${ROUNDS} rounds`,
    );
    console.log(`  ProxyMetrics.observe  ${nsPerObserve(metrics.observe, events).toFixed(0)} ns`);
    console.log(
      `  TrafficStats.observe  ${nsPerObserve((event) => stats.observe(event), events).toFixed(0)} ns (plain counters behind /status, for comparison)`,
    );
    console.log(`load average ${load()} at the end`);
  } finally {
    metrics.close();
    await proxy.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
