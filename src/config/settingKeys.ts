import type {
  AdminConfig,
  BackendTls,
  FrontendConfig,
  HooksConfig,
  PoolConfig,
  RateLimitConfig,
  ServerConfig,
} from './types';

/**
 * The INI key each config field is written with. Typed as records over the fields so that a
 * field added to a config type fails to compile until it is named here.
 */
export const FRONTEND_KEYS = {
  host: 'host',
  port: 'port',
  logLevel: 'log_level',
  drainTimeoutMs: 'drain_timeout',
  headerTimeoutMs: 'header_timeout',
  bodyTimeoutMs: 'body_timeout',
  maxBodySize: 'max_body_size',
  trustedProxies: 'trusted_proxies',
  shutdownDelayMs: 'shutdown_delay',
  watchConfig: 'watch_config',
  workers: 'workers',
  tlsCert: 'tls_cert',
  tlsKey: 'tls_key',
  tlsCertDir: 'tls_cert_dir',
  tlsMinVersion: 'tls_min_version',
  // A certificate whose files changed by the time of a reload counts as a change of `tls_cert`.
  certificates: 'tls_cert',
  redirectHttpPort: 'redirect_http_port',
  http2: 'http2',
  h2MaxConcurrentStreams: 'h2_max_concurrent_streams',
} as const satisfies Record<keyof FrontendConfig, string>;

/** Every PoolConfig field but `kind` and `servers`. */
export const POOL_KEYS = {
  algorithm: 'algorithm',
  enableHealthCheck: 'enable_health_check',
  healthCheckIntervalMs: 'health_check_interval',
  healthCheckPath: 'health_check_path',
  healthCheckTimeoutMs: 'health_check_timeout',
  healthCheckFall: 'health_check_fall',
  healthCheckRise: 'health_check_rise',
  passiveHealthCheck: 'passive_health_check',
  maxFails: 'max_fails',
  ejectTimeMs: 'eject_time',
  maxEjectionPercent: 'max_ejection_percent',
  dynamicWeights: 'dynamic_weights',
  slowStartMs: 'slow_start',
  hashKey: 'hash_key',
  hashBalanceFactor: 'hash_balance_factor',
  sticky: 'sticky',
  stickyCookie: 'sticky_cookie',
  stickyCookieMaxAgeMs: 'sticky_cookie_max_age',
  stickyCookiePath: 'sticky_cookie_path',
  handshakeTimeoutMs: 'handshake_timeout',
  maxMessageSize: 'max_message_size',
  compression: 'compression',
  pingIntervalMs: 'ping_interval',
  idleTimeoutMs: 'idle_timeout',
  connectTimeoutMs: 'connect_timeout',
  responseTimeoutMs: 'response_timeout',
  queueTimeoutMs: 'queue_timeout',
  retries: 'retries',
  preserveHost: 'preserve_host',
  maxPending: 'max_pending',
  requestBufferSize: 'request_buffer_size',
  requestBufferTotal: 'request_buffer_total',
} as const satisfies Record<Exclude<keyof PoolConfig, 'name' | 'kind' | 'servers'>, string>;

/**
 * The per-server numbers, written `serverN_<key>` (or as a pool-wide default). The identity
 * fields (`name`, `number`, `host`, `port`, `address`, `tls`) are compared separately.
 */
export const SERVER_KEYS = {
  weight: 'weight',
  minWorkers: 'min_workers',
  maxWorkers: 'max_workers',
  workerTimeoutMs: 'worker_timeout',
  bufferSize: 'buffer_size',
} as const satisfies Record<
  Exclude<keyof ServerConfig, 'name' | 'number' | 'host' | 'port' | 'address' | 'tls'>,
  string
>;

/**
 * The pool's `tls_*` keys, held by each TLS server: a change is a change of how the server is
 * reached (a removal and an addition, as for a new address), never a pool setting.
 */
export const TLS_KEYS = {
  caFile: 'tls_ca',
  ca: 'tls_ca',
  servername: 'tls_servername',
  verify: 'tls_verify',
} as const satisfies Record<keyof BackendTls, string>;

/** `rateLimit` is compared by its parts, each with its own key. */
export const HOOKS_KEYS = {
  module: 'module',
  hookTimeoutMs: 'hook_timeout',
  requestId: 'request_id',
  requestIdHeader: 'request_id_header',
  allowFrom: 'allow_from',
  stripPrefix: 'strip_prefix',
  requestHeaders: 'request_header',
  responseHeaders: 'response_header',
} as const satisfies Record<Exclude<keyof HooksConfig, 'rateLimit'>, string>;

/** `tokensPerSecond` follows from `text`, so a change of it is a change of `rate_limit`. */
export const RATE_LIMIT_KEYS = {
  text: 'rate_limit',
  tokensPerSecond: 'rate_limit',
  burst: 'rate_limit_burst',
  key: 'rate_limit_key',
  maxKeys: 'rate_limit_keys',
} as const satisfies Record<keyof RateLimitConfig, string>;

export const ADMIN_KEYS = {
  host: 'host',
  port: 'port',
  token: 'token',
  metricsBuckets: 'metrics_buckets',
} as const satisfies Record<keyof AdminConfig, string>;

export type FrontendKey = (typeof FRONTEND_KEYS)[keyof typeof FRONTEND_KEYS];
export type PoolKey = (typeof POOL_KEYS)[keyof typeof POOL_KEYS];
export type ServerKey = (typeof SERVER_KEYS)[keyof typeof SERVER_KEYS];
export type HooksKey =
  | (typeof HOOKS_KEYS)[keyof typeof HOOKS_KEYS]
  | (typeof RATE_LIMIT_KEYS)[keyof typeof RATE_LIMIT_KEYS];
export type AdminKey = (typeof ADMIN_KEYS)[keyof typeof ADMIN_KEYS];

/** Structural equality of frozen config values: primitives, arrays and plain objects. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const left = a as Readonly<Record<string, unknown>>;
  const right = b as Readonly<Record<string, unknown>>;
  const keys = Object.keys(left);
  return (
    keys.length === Object.keys(right).length &&
    keys.every((key) => Object.hasOwn(right, key) && sameValue(left[key], right[key]))
  );
}

/** The keys (in table order, without repeats) of the fields that differ between `a` and `b`. */
export function changedKeys<T extends object, Table extends { readonly [F in keyof T]?: string }>(
  table: Table,
  a: T,
  b: T,
): Exclude<Table[keyof Table], undefined>[] {
  type Key = Exclude<Table[keyof Table], undefined>;
  const keys: Key[] = [];
  for (const [field, key] of Object.entries(table) as [keyof T, Key][]) {
    if (!keys.includes(key) && !sameValue(a[field], b[field])) keys.push(key);
  }
  return keys;
}
