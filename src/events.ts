/** Everything that happens in the proxy, as one typed stream: logs, metrics and hooks read it. */
export type ProxyEvent =
  | { readonly type: 'listening'; readonly host: string; readonly port: number }
  | {
      readonly type: 'request';
      readonly method: string;
      readonly url: string;
      /** `server1`, … or undefined when no backend was chosen. */
      readonly backend: string | undefined;
      readonly status: number;
      readonly durationMs: number;
      /** Why the proxy answered itself or cut the response, when it did. */
      readonly error?: string;
      /** The request's id, with `[hooks] request_id` on. */
      readonly requestId?: string;
      /** What request hooks attached to the request (`meta`), when anything. */
      readonly meta?: Readonly<Record<string, unknown>>;
    }
  | {
      readonly type: 'client-error';
      readonly code: string;
      readonly message: string;
      readonly remoteAddress: string | undefined;
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
      readonly pool: 'http' | 'websocket';
      readonly backend: string;
      /** Whether the backend is in rotation now. */
      readonly healthy: boolean;
      /** Why it left rotation: a failed health check or an ejection. */
      readonly reason?: string;
    }
  | {
      readonly type: 'websocket-open';
      readonly backend: string;
      readonly url: string;
      /** The subprotocol the backend chose ('' for none). */
      readonly subprotocol: string;
    }
  | {
      readonly type: 'websocket-close';
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
  | { readonly type: 'draining'; readonly inFlight: number; readonly timeoutMs: number }
  | { readonly type: 'stopped'; readonly drained: boolean; readonly abandoned: number };

export type ProxyEventType = ProxyEvent['type'];
export type ProxyEventOf<T extends ProxyEventType> = Extract<ProxyEvent, { type: T }>;
