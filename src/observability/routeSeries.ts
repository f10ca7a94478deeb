import type { Registry } from 'prom-client';
import { PlainMetric, type LabelSet } from './plainMetric';
import { STATUS_CLASSES, statusClassIndex } from './serverSeries';

/** One route's request counts by status class, with their label sets built once. */
interface RouteSeries {
  /** `{ route, code }`, by status class. */
  readonly labels: readonly LabelSet[];
  readonly counts: Float64Array;
}

/**
 * `rxproxy_route_requests_total{route,code}`: requests by the `[route:NAME]` that took them,
 * `route=""` for those no route took. A series exists at 0 from the first time it is named;
 * route names come from the configuration only, so the labels stay bounded.
 */
export class RouteSeriesTable {
  private readonly byRoute = new Map<string, RouteSeries>();

  /**
   * `configured` (the configured route names) is read now and at every scrape: a route added by
   * a reload shows at 0 on the next scrape.
   */
  constructor(registry: Registry, configured: () => readonly string[]) {
    const collect = () => {
      for (const name of configured()) this.route(name);
    };
    new PlainMetric(registry, {
      name: 'rxproxy_route_requests_total',
      help: 'HTTP requests answered, by the route that took them and status class; route="" for none.',
      type: 'counter',
      samples: (into) => {
        collect();
        for (const { labels, counts } of this.byRoute.values()) {
          labels.forEach((set, index) => into.push({ labels: set, value: counts[index] ?? 0 }));
        }
      },
      reset: () => {
        for (const { counts } of this.byRoute.values()) counts.fill(0);
      },
    });
    this.route('');
    collect();
  }

  /** The route's series, at 0 if new. */
  route(name: string): RouteSeries {
    let series = this.byRoute.get(name);
    if (!series) {
      series = {
        labels: STATUS_CLASSES.map((code) => ({ route: name, code })),
        counts: new Float64Array(STATUS_CLASSES.length),
      };
      this.byRoute.set(name, series);
    }
    return series;
  }

  /** Counts a request under its route (undefined: none took it) and status class. */
  count(route: string | undefined, status: number): void {
    const { counts } = this.route(route ?? '');
    const index = statusClassIndex(status);
    counts[index] = (counts[index] ?? 0) + 1;
  }
}
