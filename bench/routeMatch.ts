// What matching a request against the routing table costs, with 1, 10, 1 000 and 10 000 routes (a
// third exact hosts, a third wildcards, a third path prefixes only) and 1 000 different requests
// per round, each matching a route. Normalisation of the path is timed with it. Prints the
// median and 90th percentile ns per match over 200 rounds after a warm-up.
//
//   npm run bench:routes

import { cpus, loadavg } from 'node:os';
import { normalizePath } from '../src/routing/normalizePath';
import { RouteTable, type RouteRule } from '../src/routing/routeTable';
import { median } from './lib/stats';

const ROUNDS = 200;
const REQUESTS = 1000;

function routesOf(count: number): RouteRule[] {
  return Array.from({ length: count }, (_, i) => ({
    name: `route${i}`,
    hosts: i % 3 === 0 ? [`h${i}.example.com`] : i % 3 === 1 ? [`*.d${i}.test`] : [],
    pathPrefix: `/p${i % 100}/q${i}`,
    priority: undefined,
  }));
}

function requestsOf(count: number): [string, string][] {
  return Array.from({ length: REQUESTS }, (_, n) => {
    const i = (n * 7919) % count;
    const host = i % 3 === 0 ? `h${i}.example.com` : `x.d${i}.test`;
    return [host, `/p${i % 100}/./q${i}/items/42?page=2`];
  });
}

function nsPerMatch(table: RouteTable<RouteRule>, requests: [string, string][]): number {
  let matched = 0;
  const started = process.hrtime.bigint();
  for (const [host, path] of requests) {
    if (table.match(host, normalizePath(path))) matched++;
  }
  const elapsed = Number(process.hrtime.bigint() - started);
  if (matched !== requests.length) throw new Error(`only ${matched} requests matched`);
  return elapsed / requests.length;
}

console.log(`${cpus()[0]?.model ?? '?'}, load average ${loadavg()[0]?.toFixed(2) ?? '?'}`);
for (const count of [1, 10, 1000, 10_000]) {
  const table = new RouteTable(routesOf(count));
  const requests = requestsOf(count);
  for (let i = 0; i < 20; i++) nsPerMatch(table, requests);
  const samples = Array.from({ length: ROUNDS }, () => nsPerMatch(table, requests));
  samples.sort((a, b) => a - b);
  const p90 = samples[Math.floor(ROUNDS * 0.9)] ?? 0;
  console.log(
    `${String(count).padStart(6)} routes: median ${median(samples).toFixed(0)} ns per match, p90 ${p90.toFixed(0)} ns`,
  );
}
