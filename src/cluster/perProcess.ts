import type { Config, HooksConfig, PoolConfig } from '../config';

/** A pool's line shared out: each process waits for its share, at least one place. */
function poolShare(pool: PoolConfig, processes: number): PoolConfig {
  if (pool.maxPending === 0) return pool;
  return { ...pool, maxPending: Math.max(1, Math.ceil(pool.maxPending / processes)) };
}

function hooksShare(hooks: HooksConfig, processes: number): HooksConfig {
  const limit = hooks.rateLimit;
  if (limit === undefined) return hooks;
  return {
    ...hooks,
    rateLimit: {
      ...limit,
      tokensPerSecond: limit.tokensPerSecond / processes,
      burst: Math.max(1, Math.ceil(limit.burst / processes)),
    },
  };
}

/**
 * The configuration one of `processes` cluster workers runs: limits that users think of as the
 * proxy's own (`max_pending`, `rate_limit` and its burst) divided among the processes, and no
 * admin listener (the primary serves it). Each process balances on its own, so the divided
 * limits hold only approximately for the whole. Per-backend connection figures (`min_workers`,
 * `max_workers`, `buffer_size`) stay per process, as nginx's upstream keep-alive is per worker.
 */
export function perProcessConfig(config: Config, processes: number): Config {
  if (processes <= 1) return config;
  const pools: Record<string, PoolConfig> = {};
  for (const [name, pool] of Object.entries(config.pools)) pools[name] = poolShare(pool, processes);
  return {
    ...config,
    http: config.http && poolShare(config.http, processes),
    websocket: config.websocket && poolShare(config.websocket, processes),
    pools,
    hooks: hooksShare(config.hooks, processes),
    admin: { ...config.admin, port: undefined },
  };
}
