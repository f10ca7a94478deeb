import { Pool, type Dispatcher } from 'undici';
import type { PoolConfig, ServerConfig } from '../config';

/**
 * One backend's upstream HTTP connections. For now an undici Pool of at most max_workers
 * keep-alive connections; the worker-pool pipeline will take its place behind this interface.
 */
export interface HttpUpstream {
  readonly server: ServerConfig;
  dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): void;
  close(): Promise<void>;
}

export function createHttpUpstream(server: ServerConfig, pool: PoolConfig): HttpUpstream {
  const connections = new Pool(`http://${server.address}`, {
    connections: server.maxWorkers,
    pipelining: 1,
    connect: { timeout: pool.connectTimeoutMs },
    headersTimeout: pool.responseTimeoutMs,
    bodyTimeout: pool.responseTimeoutMs,
    keepAliveTimeout: server.workerTimeoutMs,
  });
  return {
    server,
    dispatch: (options, handler) => {
      connections.dispatch(options, handler);
    },
    close: () => connections.destroy(),
  };
}
