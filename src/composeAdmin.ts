import type { Subject } from './rx';
import type { AdminRoutes, AdminServer } from './adapters/adminServer';
import type * as AdminServerModule from './adapters/adminServer';
import type * as DashboardPageModule from './adapters/dashboardPage';
import { packageVersion } from './adapters/packageInfo';
import type { Config } from './config';
import type { ProxyEvent } from './events';
import type { LiveState } from './observability/liveState';
import type * as TrafficCountersModule from './composeTrafficCounters';
import { statusReport } from './observability/statusReport';
import { eventFeedFor } from './streams/eventFeed';

/**
 * The admin listener wired to the proxy: traffic stats and metrics subscribe to the events
 * once; the listener reads them and the live state when asked. Undefined without `[admin] port`.
 */
export function createAdmin(
  config: Config,
  live: LiveState,
  events: Subject<ProxyEvent>,
  commands: Pick<AdminRoutes, 'control' | 'reload' | 'routing'>,
): AdminServer | undefined {
  if (config.admin.port === undefined) return undefined;
  const startedAt = Date.now();
  const version = packageVersion();
  // Loaded with the admin listener only: prom-client and what it brings hold several MiB of
  // resident memory that a proxy without metrics should not pay, the server and its dashboard
  // page some more (docs/performance.md, Memory).
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { countTraffic } = require('./composeTrafficCounters') as typeof TrafficCountersModule;
  const { createAdminServer } = require('./adapters/adminServer') as typeof AdminServerModule;
  const { DASHBOARD_HTML } = require('./adapters/dashboardPage') as typeof DashboardPageModule;
  /* eslint-enable @typescript-eslint/no-require-imports */
  const counters = countTraffic(events, config.admin.metricsBuckets, live);
  const { metrics, stats } = counters;
  const server = createAdminServer(config.admin, {
    readiness: () => live.readiness(),
    status: () =>
      statusReport(live, stats, { version, configFile: config.file, startedAt, now: Date.now() }),
    metrics,
    feed: (query) => eventFeedFor(events, query),
    dashboard: DASHBOARD_HTML,
    ...commands,
    onError: (message) => events.next({ type: 'internal-error', source: 'admin', message }),
  });
  return {
    listen: () =>
      server.listen().catch((error: unknown) => {
        throw Object.assign(error as Error, { listener: 'admin' });
      }),
    get address() {
      return server.address;
    },
    close: async () => {
      counters.close();
      await server.close();
    },
  };
}
