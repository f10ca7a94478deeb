import { Gauge, type Registry } from 'prom-client';
import type { LivePool, LiveServer, LiveState } from './liveState';
import { PlainMetric, type LabelSet } from './plainMetric';

const CONNECTION_STATES = ['busy', 'idle', 'connecting'] as const;

export interface LiveGaugeSources {
  readonly live: LiveState;
  /** The pools as they are for this scrape: every gauge reads the same answer. */
  readonly pools: () => readonly LivePool[];
  /** `{ pool, server }`, the same object at every scrape. */
  readonly labelsOf: (pool: string, server: string) => LabelSet;
}

/** The gauges, read from LiveState when scraped. */
export function registerLiveGauges(registry: Registry, sources: LiveGaugeSources): void {
  const { live, pools, labelsOf } = sources;
  // Built once per server, as labelsOf's are: the registry caches the text of each object.
  const stateLabels = new WeakMap<LabelSet, readonly LabelSet[]>();
  const statesOf = (labels: LabelSet): readonly LabelSet[] => {
    let states = stateLabels.get(labels);
    if (!states) {
      states = CONNECTION_STATES.map((state) => ({ ...labels, state }));
      stateLabels.set(labels, states);
    }
    return states;
  };
  const eachServer = (visit: (server: LiveServer, labels: LabelSet) => void): void => {
    for (const pool of pools()) {
      for (const server of pool.servers) visit(server, labelsOf(pool.name, server.name));
    }
  };
  const perServer = (
    name: string,
    help: string,
    value: (server: LiveServer) => number,
    aggregator: 'sum' | 'max' = 'sum',
  ) =>
    new PlainMetric(registry, {
      name,
      help,
      type: 'gauge',
      aggregator,
      samples: (into) =>
        eachServer((server, labels) => into.push({ labels, value: value(server) })),
    });

  // In a cluster every worker balances over the primary's snapshots: the same health in each.
  perServer(
    'rxproxy_server_up',
    '1 while the server is in rotation, 0 while out.',
    (server) => (server.inRotation ? 1 : 0),
    'max',
  );
  perServer(
    'rxproxy_server_weight',
    'The weight the balancer gives the server now; 0 while out of rotation.',
    (server) => (server.inRotation ? server.effectiveWeight : 0),
    'max',
  );
  new PlainMetric(registry, {
    name: 'rxproxy_upstream_connections',
    help: 'Upstream connections by state (servers of pools that keep none are left out).',
    type: 'gauge',
    samples: (into) =>
      eachServer(({ workers }, labels) => {
        if (!workers) return;
        const states = statesOf(labels);
        CONNECTION_STATES.forEach((state, index) => {
          into.push({ labels: states[index] ?? labels, value: workers[state] });
        });
      }),
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
    registers: [registry],
    collect() {
      this.set(live.requestsInFlight());
    },
  });
}
