import type { Metric, Registry } from 'prom-client';

/** One label set's observations. */
export interface HistogramSeries {
  readonly labels: Readonly<Record<string, string>>;
  /** Per bucket, not cumulative; the last one is +Inf. */
  readonly counts: Float64Array;
  sum: number;
}

/**
 * A sample in the shape prom-client's registry formats (what its own Histogram returns). The
 * registry caches the text of `sharedLabels` per object, so each series' labels and each `le`
 * are escaped once, not at every scrape.
 */
interface SampleValue {
  readonly metricName: string;
  readonly labels: Readonly<Record<string, string | number>>;
  readonly sharedLabels: Readonly<Record<string, string>>;
  readonly value: number;
}

const NO_LABELS = {};

/**
 * A Prometheus histogram in plain arrays, for the request path: an observation is a bucket search
 * and two additions, where prom-client's Histogram validates and hashes the labels on every call
 * (about 0.4 µs). prom-client's registry formats any registered object with a name and get()
 * returning its own metrics' shape, so this one is scraped with the rest.
 */
export class BucketHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly all: HistogramSeries[] = [];
  /** `le` of each bucket, +Inf last. */
  private readonly le: readonly Readonly<Record<string, string | number>>[];

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly bounds: readonly number[],
    registry: Registry,
    /** Runs before the series are read. */
    private readonly collect: () => void,
  ) {
    // The registry's parameter type lists prom-client's own classes; it reads only name, type,
    // help, aggregator and get().
    registry.registerMetric(this as unknown as Metric);
    this.le = [...bounds.map((le) => ({ le })), { le: '+Inf' }];
  }

  /** A new series at 0. */
  series(labels: Readonly<Record<string, string>>): HistogramSeries {
    const series = { labels, counts: new Float64Array(this.bounds.length + 1), sum: 0 };
    this.all.push(series);
    return series;
  }

  observe(series: HistogramSeries, value: number): void {
    const bounds = this.bounds;
    let index = 0;
    while (index < bounds.length && value > (bounds[index] ?? Infinity)) index++;
    series.counts[index] = (series.counts[index] ?? 0) + 1;
    series.sum += value;
  }

  /** Zeroes every series (prom-client's `registry.resetMetrics()`). */
  reset(): void {
    for (const series of this.all) {
      series.counts.fill(0);
      series.sum = 0;
    }
  }

  // prom-client awaits get(); nothing here is asynchronous.
  // eslint-disable-next-line @typescript-eslint/require-await
  async get() {
    this.collect();
    const bucket = `${this.name}_bucket`;
    const sumName = `${this.name}_sum`;
    const countName = `${this.name}_count`;
    const values: SampleValue[] = [];
    for (const { labels: sharedLabels, counts, sum } of this.all) {
      let total = 0;
      this.le.forEach((labels, index) => {
        total += counts[index] ?? 0;
        values.push({ metricName: bucket, labels, sharedLabels, value: total });
      });
      values.push({ metricName: sumName, labels: NO_LABELS, sharedLabels, value: sum });
      values.push({ metricName: countName, labels: NO_LABELS, sharedLabels, value: total });
    }
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values,
    };
  }
}
