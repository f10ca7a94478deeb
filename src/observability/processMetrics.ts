import perfHooks from 'node:perf_hooks';
import { collectDefaultMetrics, type Registry } from 'prom-client';

/** The two perf_hooks entry points prom-client's default metrics start something with. */
interface Monitors {
  monitorEventLoopDelay: typeof perfHooks.monitorEventLoopDelay;
  PerformanceObserver: typeof perfHooks.PerformanceObserver;
}

/**
 * prom-client's default `process_*` and `nodejs_*` metrics in `registry`; the returned function
 * stops what they started.
 *
 * prom-client 15 starts an event-loop-delay monitor and a GC PerformanceObserver for every call
 * and hands back no way to stop them (prometheus/client_js#494, #500), so each proxy would leave
 * a 10 ms timer and an observer behind. For the length of the synchronous call, the two perf_hooks
 * entry points it looks up are wrapped to record what it creates.
 */
export function collectProcessMetrics(registry: Registry): () => void {
  const monitors = perfHooks as Monitors;
  const { monitorEventLoopDelay, PerformanceObserver } = monitors;
  const stops: (() => void)[] = [];
  monitors.monitorEventLoopDelay = (options) => {
    const histogram = monitorEventLoopDelay(options);
    stops.push(() => histogram.disable());
    return histogram;
  };
  monitors.PerformanceObserver = class extends PerformanceObserver {
    constructor(callback: ConstructorParameters<typeof PerformanceObserver>[0]) {
      super(callback);
      stops.push(() => this.disconnect());
    }
  };
  try {
    collectDefaultMetrics({ register: registry });
  } finally {
    monitors.monitorEventLoopDelay = monitorEventLoopDelay;
    monitors.PerformanceObserver = PerformanceObserver;
  }
  return () => {
    for (const stop of stops.splice(0)) stop();
  };
}
