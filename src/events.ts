import type { RejectReason } from './forwarding/failures';

export type { RejectReason };

/** Everything that happens in the proxy, as one typed stream: logs, metrics and hooks read it. */
export type ProxyEvent =
  | { readonly type: 'listening'; readonly host: string; readonly port: number }
  | {
      /** `tls_verify=false` in a pool with TLS servers: their certificates are not checked. */
      readonly type: 'tls-unverified';
      /** The section: `http` or `websocket`. */
      readonly pool: string;
      readonly servers: readonly string[];
    }
  | {
      /** A front-door certificate's files changed: loaded, or kept the old one when broken. */
      readonly type: 'certificate-reload';
      readonly outcome: 'reloaded' | 'failed';
      /** `tls_cert`, or NAME of `NAME.crt` in `tls_cert_dir`. */
      readonly name: string;
      readonly certFile: string;
      /** The new certificate's end of validity, when reloaded. */
      readonly validTo?: string;
      /** What is wrong with the new files, when failed. */
      readonly errors?: readonly string[];
    }
  | {
      /** A front-door certificate ends within 30 days (at start, reload or renewal). */
      readonly type: 'certificate-expiring';
      readonly name: string;
      readonly certFile: string;
      readonly validTo: string;
      readonly daysLeft: number;
    }
  | {
      readonly type: 'request';
      /** The pool that served it: `http` (or `websocket` when there is no [http]). */
      readonly pool: string;
      readonly method: string;
      readonly url: string;
      /** `server1`, … or undefined when no backend was chosen. */
      readonly backend: string | undefined;
      readonly status: number;
      readonly durationMs: number;
      /** Why the proxy answered itself or cut the response, when it did. */
      readonly error?: string;
      /** Set when the proxy answered the request itself: the reason, as a metric label. */
      readonly rejected?: RejectReason;
      /** The request's id, with `[hooks] request_id` on. */
      readonly requestId?: string;
      /** What request hooks attached to the request (`meta`), when anything. */
      readonly meta?: Readonly<Record<string, unknown>>;
      /** The `[route:NAME]` the request matched; absent for the default pool. */
      readonly route?: string;
    }
  | {
      readonly type: 'client-error';
      readonly code: string;
      readonly message: string;
      readonly remoteAddress: string | undefined;
      /** A failed TLS handshake on the front door (no HTTP was read). */
      readonly tls?: true;
      /** An HTTP/2 connection closed for a protocol error or abuse (a stream flood, rapid resets). */
      readonly http2?: true;
      /** The reason the proxy answered with, when it could still answer. */
      readonly rejected?: RejectReason;
    }
  | {
      /** A failed attempt sent the request on to another backend (or a fresh connection). */
      readonly type: 'retry';
      readonly pool: string;
      /** The backend whose attempt failed. */
      readonly backend: string;
      /** The failure's code, e.g. ECONNREFUSED. */
      readonly code: string;
    }
  | {
      readonly type: 'worker';
      readonly backend: string;
      readonly worker: number;
      /** spawned (connecting), connected, retired (idle or shut down) or lost (connection closed or failed). */
      readonly action: 'spawned' | 'connected' | 'retired' | 'lost';
      /**
       * Why a worker was spawned: to reach min_workers, under pressure, to replace a lost one, or
       * as the next backed-off attempt at a backend whose connections fail.
       */
      readonly reason?: 'min' | 'pressure' | 'replace' | 'retry';
      /** Workers of this backend after the change. */
      readonly workers: number;
      readonly error?: string;
    }
  | {
      readonly type: 'health';
      readonly pool: string;
      readonly backend: string;
      /** Whether the backend is in rotation now. */
      readonly healthy: boolean;
      /** Why it left rotation: a failed health check or an ejection. */
      readonly reason?: string;
      /** What took it out of rotation. */
      readonly cause?: OutOfRotationCause;
      /** For an ejection: when it returns to rotation (ms since the epoch). */
      readonly returnsAt?: number;
    }
  | {
      /** One active health check probe of one backend (after it answered or timed out). */
      readonly type: 'health-check';
      readonly pool: string;
      readonly backend: string;
      /** Whether this probe passed. */
      readonly up: boolean;
      /** Whether the backend counts as healthy after rise/fall. */
      readonly healthy: boolean;
      readonly latencyMs: number;
      readonly reason?: string;
    }
  | {
      /** A WebSocket handshake the proxy answered itself (no backend could take it). */
      readonly type: 'websocket-rejected';
      readonly pool: string;
      readonly status: number;
      readonly rejected: RejectReason;
    }
  | {
      readonly type: 'websocket-open';
      readonly pool: string;
      readonly backend: string;
      readonly url: string;
      /** The subprotocol the backend chose ('' for none). */
      readonly subprotocol: string;
      /** The `[route:NAME]` the handshake matched; absent for the default pool. */
      readonly route?: string;
    }
  | {
      readonly type: 'websocket-close';
      readonly pool: string;
      readonly backend: string;
      readonly closedBy: 'client' | 'backend';
      readonly code: number;
      readonly reason: string;
      readonly durationMs: number;
      readonly clientToBackend: { readonly messages: number; readonly bytes: number };
      readonly backendToClient: { readonly messages: number; readonly bytes: number };
      readonly error?: string;
    }
  | { readonly type: 'queue'; readonly backend: string; readonly depth: number }
  | { readonly type: 'internal-error'; readonly source: string; readonly message: string }
  | {
      /** A new configuration took effect (a reload), with what changed. */
      readonly type: 'config-applied';
      /** What triggered it: `SIGHUP`, `watch`, `admin` or `api` (proxy.reload). */
      readonly trigger: string;
      /** One line: `http: +server3, -server2, server1 weight; algorithm` or `no changes`. */
      readonly summary: string;
    }
  | {
      /** A new configuration was refused: the running one stays, unchanged. */
      readonly type: 'config-rejected';
      readonly trigger: string;
      /** Every problem, `file: [section] key: what is wrong`. */
      readonly problems: readonly string[];
    }
  | {
      /** A server was drained, enabled or given a weight through the admin API. */
      readonly type: 'server-control';
      readonly pool: string;
      readonly backend: string;
      readonly action: 'drain' | 'enable' | 'weight';
      readonly weight?: number;
    }
  | { readonly type: 'draining'; readonly inFlight: number; readonly timeoutMs: number }
  | { readonly type: 'stopped'; readonly drained: boolean; readonly abandoned: number };

/**
 * `health-check`: failed active probes; `ejection`: passive checks; `hook`: a healthySet hook;
 * `drain`: drained through the admin API.
 */
export type OutOfRotationCause = 'health-check' | 'ejection' | 'hook' | 'drain';

export type ProxyEventType = ProxyEvent['type'];
export type ProxyEventOf<T extends ProxyEventType> = Extract<ProxyEvent, { type: T }>;
