import { connect, type Socket } from 'node:net';
import { connectTls } from './backendTls';
import { Client, type Dispatcher } from './undiciCore';
import type { PoolConfig, ServerConfig } from '../config';

/** An upstream failure with a code the forwarding rules understand. */
export function upstreamError(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code });
}

export interface WorkerOwner {
  onReady(worker: UpstreamWorker): void;
  /** The connection closed or never opened; not called after close(). */
  onLost(worker: UpstreamWorker, connected: boolean, error: Error | undefined): void;
}

export type WorkerState = 'connecting' | 'idle' | 'busy' | 'closed';

/** Long enough that idle retirement is the pool's decision, not undici's. */
const CLIENT_KEEP_ALIVE_MS = 10 * 60_000;

/**
 * One persistent upstream connection serving one request at a time. The TCP connection is
 * opened when the worker is spawned (so min_workers exist before any request) and handed to an
 * undici Client on first use. When it closes the worker is done: the pool replaces it.
 */
export class UpstreamWorker {
  state: WorkerState = 'connecting';
  /** When the worker last became idle, on the pool's clock. */
  idleSince = 0;
  /** Requests dispatched on this connection, the current one included. */
  served = 0;
  /** Set when the pool retired the worker while it was busy. */
  retireWhenDone = false;
  private readonly socket: Socket;
  private readonly client: Client;
  private handedOver = false;
  private lastError: Error | undefined;
  private connectTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly id: number,
    server: ServerConfig,
    pool: PoolConfig,
    private readonly owner: WorkerOwner,
  ) {
    const { host, port, tls } = server;
    // Over TLS the worker is ready once the handshake (and the certificate check) succeeded; a
    // failed check closes the socket with its error, as a refused connection does.
    if (tls) {
      this.socket = connectTls(host, port, tls);
      this.socket.setNoDelay(true);
      this.socket.setKeepAlive(true);
      this.socket.once('secureConnect', this.onConnect);
    } else {
      this.socket = connect({ host, port, noDelay: true, keepAlive: true });
      this.socket.once('connect', this.onConnect);
    }
    this.socket.on('error', this.onSocketError);
    this.socket.once('close', this.onClose);
    this.connectTimer = setTimeout(this.onConnectTimeout, pool.connectTimeoutMs);
    // `http:` even over TLS: the connection is the worker's own, and with an `https:` origin
    // undici would drop it whenever a request's Host differs from the origin (its SNI check).
    this.client = new Client(`http://${server.address}`, {
      connect: (_options, callback) => {
        if (this.handedOver || this.socket.destroyed) {
          callback(upstreamError('WORKER_CLOSED', 'upstream connection already closed'), null);
          return;
        }
        this.handedOver = true;
        // undici expects the connector to answer asynchronously, as a real connect would.
        process.nextTick(callback, null, this.socket);
      },
      pipelining: 1,
      headersTimeout: pool.responseTimeoutMs,
      bodyTimeout: pool.responseTimeoutMs,
      keepAliveTimeout: CLIENT_KEEP_ALIVE_MS,
      keepAliveMaxTimeout: CLIENT_KEEP_ALIVE_MS,
    });
    this.client.on('connectionError', () => undefined);
  }

  dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): void {
    this.state = 'busy';
    this.served++;
    this.client.dispatch(options, handler);
  }

  /** Closes the connection without telling the owner (it asked). */
  close(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.clearConnectTimer();
    this.client.destroy().catch(() => undefined);
    this.socket.destroy();
  }

  private readonly onConnect = (): void => {
    this.clearConnectTimer();
    if (this.state !== 'connecting') return;
    this.owner.onReady(this);
  };

  private readonly onConnectTimeout = (): void => {
    this.connectTimer = undefined;
    this.socket.destroy(upstreamError('UND_ERR_CONNECT_TIMEOUT', 'connect timeout'));
  };

  private readonly onSocketError = (error: Error): void => {
    this.lastError = error;
  };

  private readonly onClose = (): void => {
    this.clearConnectTimer();
    if (this.state === 'closed') return;
    const connected = this.state !== 'connecting';
    this.state = 'closed';
    // undici handles the close of its socket after this listener and fails the request in
    // flight with the socket's error; destroying the client first would hide that error.
    setImmediate(() => void this.client.destroy().catch(() => undefined));
    this.owner.onLost(this, connected, this.lastError);
  };

  private clearConnectTimer(): void {
    if (this.connectTimer !== undefined) clearTimeout(this.connectTimer);
    this.connectTimer = undefined;
  }
}
