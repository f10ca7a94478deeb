import { Counter, type Registry } from 'prom-client';

/** The `code` label: a status's class. */
export const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;

/** One pool and server's requests by status class (index 0 is `1xx`). */
export interface RequestCounts {
  readonly counts: Float64Array;
  /** What the prom-client counter has been given so far. */
  readonly synced: Float64Array;
  readonly labels: readonly Readonly<Record<string, string>>[];
}

/** Counts a request under its status class; anything past 5xx counts as 5xx. */
export function countRequest({ counts }: RequestCounts, status: number): void {
  const index = Math.min(Math.max(Math.floor(status / 100), 1), STATUS_CLASSES.length) - 1;
  counts[index] = (counts[index] ?? 0) + 1;
}

/**
 * `rxproxy_requests_total`, counted in plain numbers and handed to a prom-client Counter when
 * scraped: a request event is the one event that comes at the rate of the traffic, and a
 * prom-client increment validates and hashes the labels each time (about 0.4 µs).
 */
export class RequestCounter {
  private readonly all: RequestCounts[] = [];

  /** `collect` runs first at each scrape. */
  constructor(registry: Registry, collect: () => void) {
    const all = this.all;
    new Counter({
      name: 'rxproxy_requests_total',
      help: 'HTTP requests answered, by status class; server="" for the proxy\'s own answers.',
      labelNames: ['pool', 'server', 'code'],
      registers: [registry],
      collect() {
        collect();
        for (const { counts, synced, labels } of all) {
          labels.forEach((set, index) => {
            // Adding what is new (0 included, which keeps the series) also survives a reset().
            this.inc(set, (counts[index] ?? 0) - (synced[index] ?? 0));
            synced[index] = counts[index] ?? 0;
          });
        }
      },
    });
  }

  /** A new series for the pool and server, shown at 0 from the next scrape. */
  series(pool: string, server: string): RequestCounts {
    const series = {
      counts: new Float64Array(STATUS_CLASSES.length),
      synced: new Float64Array(STATUS_CLASSES.length),
      labels: STATUS_CLASSES.map((code) => ({ pool, server, code })),
    };
    this.all.push(series);
    return series;
  }
}
