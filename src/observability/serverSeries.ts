import type { Registry } from 'prom-client';
import { NO_LABELS, PlainMetric, type LabelSet, type PlainSample } from './plainMetric';
import { LatencyBuckets } from './trafficStats';

/** The `code` label: a status's class. */
export const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;

/** Where each count lives in a series' `counts` (requests take one slot per status class). */
export const SLOT = {
  requests: 0,
  ejections: 5,
  checksUp: 6,
  checksDown: 7,
  retries: 8,
  clientToBackendMessages: 9,
  clientToBackendBytes: 10,
  backendToClientMessages: 11,
  backendToClientBytes: 12,
} as const;
const SLOTS = 13;

/**
 * Every label set of one server's samples, built once: the registry caches the text of each
 * object, so a scrape escapes no label.
 */
export interface ServerLabels {
  /** `{ pool, server }`. */
  readonly server: LabelSet;
  /** By SLOT. */
  readonly slots: readonly LabelSet[];
  /** By bucket, +Inf last. */
  readonly buckets: readonly LabelSet[];
}

/** One pool and server's counts: plain numbers, read when scraped. */
export interface ServerSeries {
  readonly labels: ServerLabels;
  readonly counts: Float64Array;
  readonly latency: LatencyBuckets;
}

export function add(series: ServerSeries, slot: number, value = 1): void {
  series.counts[slot] = (series.counts[slot] ?? 0) + value;
}

/** A status's index in STATUS_CLASSES; anything past 5xx counts as 5xx. */
export function statusClassIndex(status: number): number {
  return Math.min(Math.max(Math.floor(status / 100), 1), STATUS_CLASSES.length) - 1;
}

/** Counts a request under its status class. */
export function countRequest(series: ServerSeries, status: number): void {
  add(series, SLOT.requests + statusClassIndex(status));
}

interface CounterSpec {
  readonly name: string;
  readonly help: string;
  /** Each sample: the slot it reads and its own labels. */
  readonly slots: readonly (readonly [slot: number, labels: LabelSet])[];
  /** Health the cluster's primary computes: every worker counts the same (PlainMetric). */
  readonly aggregator?: 'max';
}

const direction = (direction: string): LabelSet => ({ direction });

const REQUESTS: CounterSpec = {
  name: 'rxproxy_requests_total',
  help: 'HTTP requests answered, by status class; server="" for the proxy\'s own answers.',
  slots: STATUS_CLASSES.map((code, index) => [SLOT.requests + index, { code }]),
};

const SERVER_COUNTERS: readonly CounterSpec[] = [
  {
    name: 'rxproxy_ejections_total',
    help: 'Times a server was ejected by passive health checks.',
    slots: [[SLOT.ejections, NO_LABELS]],
    aggregator: 'max',
  },
  {
    name: 'rxproxy_health_checks_total',
    help: 'Active health check probes, by result.',
    slots: [
      [SLOT.checksUp, { result: 'up' }],
      [SLOT.checksDown, { result: 'down' }],
    ],
    aggregator: 'max',
  },
  {
    name: 'rxproxy_retries_total',
    help: 'Failed attempts at a server after which the request was sent on.',
    slots: [[SLOT.retries, NO_LABELS]],
  },
  {
    name: 'rxproxy_websocket_messages_total',
    help: 'WebSocket messages relayed, counted when the connection closes.',
    slots: [
      [SLOT.clientToBackendMessages, direction('client_to_backend')],
      [SLOT.backendToClientMessages, direction('backend_to_client')],
    ],
  },
  {
    name: 'rxproxy_websocket_bytes_total',
    help: 'WebSocket payload bytes relayed, counted when the connection closes.',
    slots: [
      [SLOT.clientToBackendBytes, direction('client_to_backend')],
      [SLOT.backendToClientBytes, direction('backend_to_client')],
    ],
  },
];

/** Each slot's own labels (besides pool and server). */
const SLOT_LABELS: readonly LabelSet[] = (() => {
  const labels = new Array<LabelSet>(SLOTS).fill(NO_LABELS);
  for (const spec of [REQUESTS, ...SERVER_COUNTERS]) {
    for (const [slot, own] of spec.slots) labels[slot] = own;
  }
  return labels;
})();

/**
 * The series of every pool and server, and the metrics that read them. A series exists at 0 from
 * the first time it is named; `server=""` holds the pool's own answers (requests only).
 */
export class ServerSeriesTable {
  private readonly byPool = new Map<string, Map<string, ServerSeries>>();
  private readonly servers: ServerSeries[] = [];
  private readonly ownAnswers: ServerSeries[] = [];

  /** `collect` runs before the series are read: servers new since the last scrape show at 0. */
  constructor(
    registry: Registry,
    private readonly buckets: readonly number[],
    collect: () => void,
  ) {
    const counter = (spec: CounterSpec, lists: readonly (readonly ServerSeries[])[]) =>
      new PlainMetric(registry, {
        name: spec.name,
        help: spec.help,
        type: 'counter',
        ...(spec.aggregator ? { aggregator: spec.aggregator } : {}),
        samples: (into) => {
          collect();
          for (const list of lists) for (const series of list) sample(into, spec, series);
        },
        reset: () => {
          for (const list of lists) for (const { counts } of list) zero(spec, counts);
        },
      });
    counter(REQUESTS, [this.ownAnswers, this.servers]);
    const name = 'rxproxy_request_duration_seconds';
    new PlainMetric(registry, {
      name,
      help: 'Time from request to the end of the response, for requests a server answered.',
      type: 'histogram',
      samples: (into) => {
        collect();
        for (const { labels, latency } of this.servers) histogram(into, name, labels, latency);
      },
      reset: () => {
        for (const series of this.servers) series.latency.reset();
      },
    });
    for (const spec of SERVER_COUNTERS) counter(spec, [this.servers]);
  }

  server(pool: string, name: string): ServerSeries {
    return this.pool(pool).get(name) ?? this.add(pool, name, this.servers);
  }

  /** The pool's own answers (`server=""`). */
  ownAnswersOf(pool: string): ServerSeries {
    return this.pool(pool).get('') ?? this.add(pool, '', this.ownAnswers);
  }

  private pool(pool: string): Map<string, ServerSeries> {
    let servers = this.byPool.get(pool);
    if (!servers) this.byPool.set(pool, (servers = new Map<string, ServerSeries>()));
    return servers;
  }

  private add(pool: string, server: string, list: ServerSeries[]): ServerSeries {
    const labels = { pool, server };
    const bounds = [...this.buckets, '+Inf'];
    const series = {
      labels: {
        server: labels,
        slots: SLOT_LABELS.map((own) => ({ ...labels, ...own })),
        buckets: bounds.map((le) => ({ ...labels, le })),
      },
      counts: new Float64Array(SLOTS),
      latency: new LatencyBuckets(this.buckets),
    };
    this.pool(pool).set(server, series);
    list.push(series);
    return series;
  }
}

function sample(into: PlainSample[], spec: CounterSpec, { labels, counts }: ServerSeries): void {
  for (const [slot] of spec.slots) {
    into.push({ labels: labels.slots[slot] ?? NO_LABELS, value: counts[slot] ?? 0 });
  }
}

function zero(spec: CounterSpec, counts: Float64Array): void {
  for (const [slot] of spec.slots) counts[slot] = 0;
}

/** The cumulative buckets, the sum and the count of one series. */
function histogram(
  into: PlainSample[],
  name: string,
  labels: ServerLabels,
  latency: LatencyBuckets,
): void {
  const cumulative = latency.cumulative();
  labels.buckets.forEach((bucket, index) => {
    into.push({ metricName: `${name}_bucket`, labels: bucket, value: cumulative[index] ?? 0 });
  });
  const count = cumulative[cumulative.length - 1] ?? 0;
  into.push({ metricName: `${name}_sum`, labels: labels.server, value: latency.sum });
  into.push({ metricName: `${name}_count`, labels: labels.server, value: count });
}
