import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createMetrics, type ProxyMetrics } from '../../src/observability/metrics';
import { FakeLiveState, liveServer } from '../helpers/fakeLiveState';
import { metricTypes, parseSamples } from '../helpers/promText';
import { webSocketClose } from '../helpers/proxyEvents';

const TABLE_HEADER = ['metric', 'type', 'labels', 'meaning'];

interface DocumentedMetric {
  readonly name: string;
  readonly type: string;
  readonly labels: readonly string[];
}

const cells = (line: string): string[] =>
  line
    .trim()
    .replace(/^\||\|$/g, '')
    .split('|')
    .map((cell) => cell.trim());

const backticked = (cell: string): string[] =>
  [...cell.matchAll(/`([^`]+)`/g)].map((match) => match[1] as string);

/** The rows of the metric table in the `## Metrics` section. */
function documentedMetrics(markdown: string): DocumentedMetric[] {
  const section = markdown.split(/^## /m).find((part) => part.startsWith('Metrics\n')) ?? '';
  const lines = section.split('\n').filter((line) => line.startsWith('|'));
  if (cells(lines[0] ?? '').join() !== TABLE_HEADER.join()) return [];
  return lines.slice(2).map((line) => {
    const [metric = '', type = '', labels = ''] = cells(line);
    return { name: backticked(metric)[0] ?? metric, type, labels: backticked(labels) };
  });
}

/** Label names of a metric's samples (a histogram's `le` left out). */
function sampleLabels(text: string): Map<string, Set<string>> {
  const labels = new Map<string, Set<string>>();
  for (const sample of parseSamples(text)) {
    const name = sample.name.replace(/_(bucket|sum|count)$/, '');
    const names = labels.get(name) ?? labels.set(name, new Set()).get(name);
    for (const label of Object.keys(sample.labels)) if (label !== 'le') names?.add(label);
  }
  return labels;
}

const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'observability.md'), 'utf8');
const documented = documentedMetrics(doc);
const sorted = (names: Iterable<string>) => [...names].sort();

describe('docs/observability.md metric table', () => {
  let metrics: ProxyMetrics;
  let text: string;

  beforeAll(async () => {
    const live = new FakeLiveState([
      liveServer('http', 'server1'),
      liveServer('websocket', 'ws1', { workers: undefined }),
    ]);
    metrics = createMetrics({ buckets: [0.1, 1], live });
    metrics.observe(webSocketClose());
    text = await metrics.scrape();
  });

  afterAll(() => metrics.close());

  it('names every rxproxy_ metric of the registry, and no other', () => {
    const registered = metrics.registry
      .getMetricsAsArray()
      .map((metric) => metric.name)
      .filter((name) => name.startsWith('rxproxy_'));
    expect(documented.length).toBeGreaterThan(0);
    expect(sorted(documented.map((metric) => metric.name))).toEqual(sorted(registered));
  });

  it('gives each metric the type and labels it is scraped with', () => {
    const types = metricTypes(text);
    const labels = sampleLabels(text);
    for (const metric of documented) {
      expect({ name: metric.name, type: types.get(metric.name) }).toEqual({
        name: metric.name,
        type: metric.type,
      });
      expect({ name: metric.name, labels: sorted(labels.get(metric.name) ?? []) }).toEqual({
        name: metric.name,
        labels: sorted(metric.labels),
      });
    }
  });

  it('names the process metrics’ prefixes, which the scrape has', () => {
    expect(doc).toContain('`process_`');
    expect(doc).toContain('`nodejs_`');
    const names = [...metricTypes(text).keys()];
    expect(names.some((name) => name.startsWith('process_'))).toBe(true);
    expect(names.some((name) => name.startsWith('nodejs_'))).toBe(true);
  });
});
