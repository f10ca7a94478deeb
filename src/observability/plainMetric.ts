import type { Metric, Registry } from 'prom-client';

export type LabelSet = Readonly<Record<string, string | number>>;

export const NO_LABELS: LabelSet = {};

export interface PlainSample {
  /** The metric's name unless set (`_bucket`, `_sum`, `_count` of a histogram). */
  readonly metricName?: string;
  /** All of the sample's labels, in an object kept for the series' life. */
  readonly labels: LabelSet;
  readonly value: number;
}

export interface PlainMetricOptions {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  /** Appends the samples as they are now. */
  readonly samples: (into: PlainSample[]) => void;
  /** Zeroes the counts (prom-client's `registry.resetMetrics()`); gauges have none. */
  readonly reset?: () => void;
  /**
   * How a cluster's `/metrics` combines the workers' samples: `sum` (default) for what each
   * worker counts of its own traffic, `max` for what every worker sees alike (the health the
   * primary computes).
   */
  readonly aggregator?: 'sum' | 'max';
}

/**
 * A metric read from plain numbers when scraped, for the series of every server.
 *
 * A prom-client Counter or Gauge validates and hashes its labels on every update and escapes every
 * label of every sample at every scrape. prom-client's registry formats any registered object that
 * returns the shape of its own metrics, and caches the text of a sample's `sharedLabels` per
 * object (its Histogram hands over each series' labels so): given label objects that live as long
 * as their series, a scrape escapes no label. get() (JSON, cluster aggregation) returns the
 * samples as they are.
 */
export class PlainMetric {
  readonly name: string;
  readonly help: string;
  readonly type: PlainMetricOptions['type'];
  readonly aggregator: 'sum' | 'max';

  constructor(
    registry: Registry,
    private readonly options: PlainMetricOptions,
  ) {
    this.name = options.name;
    this.help = options.help;
    this.type = options.type;
    this.aggregator = options.aggregator ?? 'sum';
    // The parameter's type lists prom-client's own classes; the registry reads name, type, help,
    // aggregator, get(), getForPromString() and reset().
    registry.registerMetric(this as unknown as Metric);
  }

  reset(): void {
    this.options.reset?.();
  }

  // prom-client awaits it; nothing here waits.
  // eslint-disable-next-line @typescript-eslint/require-await
  async get() {
    const values: PlainSample[] = [];
    this.options.samples(values);
    const { name, help, type, aggregator } = this;
    return { name, help, type, aggregator, values };
  }

  /** What the text format is written from: the labels as `sharedLabels`, whose text is cached. */
  async getForPromString() {
    const data = await this.get();
    const values = data.values.map(({ metricName, labels, value }) => ({
      metricName,
      labels: NO_LABELS,
      sharedLabels: labels,
      value,
    }));
    return { ...data, values };
  }
}
