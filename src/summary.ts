import type { Config, PoolConfig } from './config';

const seconds = (ms: number) => `${ms / 1000}s`;

function describePool(pool: PoolConfig): string[] {
  const health = pool.enableHealthCheck
    ? `health checks every ${seconds(pool.healthCheckIntervalMs)}`
    : 'no health checks';
  const lines = [`[${pool.kind}] ${pool.algorithm}, ${health}, ${pool.servers.length} server(s):`];
  for (const server of pool.servers) {
    const workers =
      pool.kind === 'http'
        ? ` workers ${server.minWorkers}-${server.maxWorkers}, idle ${seconds(server.workerTimeoutMs)}, queue ${server.bufferSize}`
        : '';
    lines.push(`  ${server.name} ${server.address}${workers}`);
  }
  return lines;
}

/** The short summary `rxproxy --check` prints for a valid configuration. */
export function describeConfig(config: Config): string {
  return [
    `${config.file}: configuration is valid`,
    `frontend ${config.frontend.host}:${config.frontend.port}, log level ${config.frontend.logLevel}, drain ${seconds(config.frontend.drainTimeoutMs)}`,
    ...(config.http ? describePool(config.http) : []),
    ...(config.websocket ? describePool(config.websocket) : []),
  ].join('\n');
}
