import type { Config, HashKey, PoolConfig, ServerConfig } from './config';

const seconds = (ms: number) => `${ms / 1000}s`;

/** Written as in the file: `ip`, `path`, `header:NAME`, `cookie:NAME`. */
const hashKeyText = (key: HashKey) => ('name' in key ? `${key.source}:${key.name}` : key.source);

function describeAlgorithm(pool: PoolConfig): string {
  return pool.algorithm === 'consistent-hash'
    ? `consistent-hash (hash_key=${hashKeyText(pool.hashKey)})`
    : pool.algorithm;
}

function describeServer(pool: PoolConfig, server: ServerConfig): string {
  const details = [
    ...(pool.algorithm === 'weighted-round-robin' ? [`weight ${server.weight}`] : []),
    ...(pool.kind === 'http'
      ? [
          `workers ${server.minWorkers}-${server.maxWorkers}`,
          `idle ${seconds(server.workerTimeoutMs)}`,
          `queue ${server.bufferSize}`,
        ]
      : []),
  ];
  return `  ${server.name} ${server.address}${details.length > 0 ? ` ${details.join(', ')}` : ''}`;
}

function describePool(pool: PoolConfig): string[] {
  const health = pool.enableHealthCheck
    ? `health checks of ${pool.healthCheckPath} every ${seconds(pool.healthCheckIntervalMs)}`
    : 'no health checks';
  return [
    `[${pool.kind}] ${describeAlgorithm(pool)}, ${health}, ${pool.servers.length} server(s):`,
    ...pool.servers.map((server) => describeServer(pool, server)),
  ];
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
