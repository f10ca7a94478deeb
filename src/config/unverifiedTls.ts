import type { Config, PoolKind } from './types';

export interface UnverifiedTls {
  readonly pool: PoolKind;
  /** The TLS servers of the pool, whose certificates are not verified. */
  readonly servers: readonly string[];
}

/** Each pool with `tls_verify=false` and at least one TLS server. */
export function unverifiedTls(config: Config): UnverifiedTls[] {
  return (['http', 'websocket'] as const).flatMap((pool) => {
    const servers = (config[pool]?.servers ?? [])
      .filter((server) => server.tls?.verify === false)
      .map((server) => server.name);
    return servers.length > 0 ? [{ pool, servers }] : [];
  });
}
