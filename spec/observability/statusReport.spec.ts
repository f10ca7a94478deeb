import type { ProxyEvent } from '../../src/events';
import { statusReport } from '../../src/observability/statusReport';
import { TrafficStats } from '../../src/observability/trafficStats';
import { FakeLiveState, liveServer } from '../helpers/fakeLiveState';
import { requestEvent as request } from '../helpers/proxyEvents';

const META = { version: '0.1.0', configFile: '/etc/rxproxy.ini', startedAt: 0, now: 1000 };

const webSocketOpen = (route?: string): ProxyEvent => ({
  type: 'websocket-open',
  pool: 'websocket',
  backend: 'ws1',
  url: '/socket',
  subprotocol: '',
  ...(route === undefined ? {} : { route }),
});

describe('statusReport routes', () => {
  let live: FakeLiveState;
  let stats: TrafficStats;

  const routes = () => statusReport(live, stats, META).routes;

  beforeEach(() => {
    live = new FakeLiveState(
      [liveServer('http', 'server1'), liveServer('websocket', 'ws1', { workers: undefined })],
      ['static', 'api'],
    );
    stats = new TrafficStats([0.1, 1]);
  });

  it('lists every configured route in file order, at 0 before any traffic', () => {
    expect(routes()).toEqual([
      { name: 'static', requests: 0, websockets: 0 },
      { name: 'api', requests: 0, websockets: 0 },
    ]);
  });

  it('counts the requests answered and the WebSockets opened through each route', () => {
    stats.observe(request({ route: 'api' }));
    stats.observe(request({ route: 'api', status: 503, rejected: 'queue_full' }));
    stats.observe(request({ route: 'api', status: 499 }));
    stats.observe(request({ route: 'static', status: 304 }));
    stats.observe(webSocketOpen('api'));
    stats.observe(request());
    stats.observe(request({ pool: '', backend: undefined, status: 404, rejected: 'no_route' }));
    stats.observe(webSocketOpen());
    expect(routes()).toEqual([
      { name: 'static', requests: 1, websockets: 0 },
      { name: 'api', requests: 3, websockets: 1 },
    ]);
  });

  it('follows the configured routes: one a reload adds shows at 0, a removed one is left out', () => {
    stats.observe(request({ route: 'static' }));
    live.routeNames = ['api', 'admin'];
    expect(routes()).toEqual([
      { name: 'api', requests: 0, websockets: 0 },
      { name: 'admin', requests: 0, websockets: 0 },
    ]);
    live.routeNames = ['static'];
    expect(routes()).toEqual([{ name: 'static', requests: 1, websockets: 0 }]);
  });

  it('is empty when the live state has no routes', () => {
    stats.observe(request({ route: 'api' }));
    const bare = {
      pools: () => live.pools(),
      requestsInFlight: () => live.requestsInFlight(),
      readiness: () => live.readiness(),
    };
    expect(statusReport(bare, stats, META).routes).toEqual([]);
  });

  it('keeps the pools’ own counts as they were', () => {
    stats.observe(request({ route: 'api' }));
    stats.observe(request({ route: 'api', status: 503, rejected: 'queue_full' }));
    const [http] = statusReport(live, stats, META).pools;
    expect(http?.rejected).toEqual({ queue_full: 1 });
    expect(http?.servers[0]?.requests.served).toBe(1);
  });
});
