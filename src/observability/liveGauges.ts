import { Gauge, type Registry } from 'prom-client';
import type { LivePool, LiveServer, LiveState } from './liveState';

const POOL_SERVER = ['pool', 'server'];
const CONNECTION_STATES = ['busy', 'idle', 'connecting'] as const;

/**
 * The gauges read from LiveState when scraped. `pools` returns the pools as they are for this
 * scrape: every gauge reads the same answer.
 */
export function registerLiveGauges(
  registry: Registry,
  live: LiveState,
  pools: () => readonly LivePool[],
): void {
  const registers = [registry];
  const perServer = (
    name: string,
    help: string,
    value: (server: LiveServer) => number,
  ): Gauge<string> =>
    new Gauge({
      name,
      help,
      labelNames: POOL_SERVER,
      registers,
      collect() {
        this.reset();
        for (const pool of pools()) {
          for (const server of pool.servers) {
            this.set({ pool: pool.name, server: server.name }, value(server));
          }
        }
      },
    });

  perServer('rxproxy_server_up', '1 while the server is in rotation, 0 while out.', (server) =>
    server.inRotation ? 1 : 0,
  );
  perServer(
    'rxproxy_server_weight',
    'The weight the balancer gives the server now; 0 while out of rotation.',
    (server) => (server.inRotation ? server.effectiveWeight : 0),
  );
  new Gauge({
    name: 'rxproxy_upstream_connections',
    help: 'Upstream connections by state (servers of pools that keep none are left out).',
    labelNames: ['pool', 'server', 'state'],
    registers,
    collect() {
      this.reset();
      for (const pool of pools()) {
        for (const { name, workers } of pool.servers) {
          if (!workers) continue;
          for (const state of CONNECTION_STATES) {
            this.set({ pool: pool.name, server: name, state }, workers[state]);
          }
        }
      }
    },
  });
  perServer(
    'rxproxy_queue_depth',
    'Requests waiting for a connection to the server.',
    (server) => server.queueDepth,
  );
  perServer(
    'rxproxy_websockets_open',
    'WebSocket connections open through the server.',
    (server) => server.openWebSockets,
  );
  new Gauge({
    name: 'rxproxy_requests_in_flight',
    help: 'Client requests the proxy is handling now.',
    registers,
    collect() {
      this.set(live.requestsInFlight());
    },
  });
}
