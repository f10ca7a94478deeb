import { connect, type Socket } from 'node:net';
import { connectTls } from './backendTls';
import { Http1Connection, type UpstreamHandler, type UpstreamRequest } from './http1Connection';
import type { PoolConfig, ServerConfig } from '../config';
import { upstreamError } from '../forwarding/failures';

export interface WorkerOwner {
  onReady(worker: UpstreamWorker): void;
  /** The connection closed or never opened; not called after close(). */
  onLost(worker: UpstreamWorker, connected: boolean, error: Error | undefined): void;
}

export type WorkerState = 'connecting' | 'idle' | 'busy' | 'closed';

/**
 * One persistent upstream connection serving one request at a time. The TCP connection is
 * opened when the worker is spawned (so min_workers exist before any request) and speaks
 * HTTP/1.1 through an `Http1Connection`. When it closes the worker is done: the pool replaces it.
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
  private readonly client: Http1Connection;
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
    this.client = new Http1Connection(this.socket, server.address);
  }

  dispatch(request: UpstreamRequest, handler: UpstreamHandler): void {
    this.state = 'busy';
    this.served++;
    this.client.dispatch(request, handler);
  }

  /** Closes the connection without telling the owner (it asked). */
  close(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.clearConnectTimer();
    this.client.close();
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
    // The pool hears of the loss first, so that the failed request is not handed this worker.
    this.owner.onLost(this, connected, this.lastError);
    this.client.socketClosed(this.lastError);
  };

  private clearConnectTimer(): void {
    if (this.connectTimer !== undefined) clearTimeout(this.connectTimer);
    this.connectTimer = undefined;
  }
}
