import type { CidrRange } from '../net/cidr';

export const ALGORITHMS = [
  'round-robin',
  'random',
  'weighted-round-robin',
  'least-connections',
  'power-of-two',
  'consistent-hash',
] as const;
export type Algorithm = (typeof ALGORITHMS)[number];

/** What consistent-hash hashes: the client address, the path, a header or a cookie. */
export type HashKey =
  | { readonly source: 'ip' | 'path' }
  | { readonly source: 'header' | 'cookie'; readonly name: string };

/** `cookie`: the proxy pins each client to a server with a cookie of its own. */
export const STICKY_MODES = ['none', 'cookie'] as const;
export type StickyMode = (typeof STICKY_MODES)[number];

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type PoolKind = 'http' | 'websocket';

/** `[frontend] workers` as written: a count, or `auto`, resolved when the process starts. */
export type WorkersSetting = number | 'auto';

export interface FrontendConfig {
  readonly host: string;
  readonly port: number;
  readonly logLevel: LogLevel;
  readonly drainTimeoutMs: number;
  readonly headerTimeoutMs: number;
  /** A request body that makes no progress for this long gets 408. */
  readonly bodyTimeoutMs: number;
  /** Largest request body accepted, in bytes; 0 = no limit. */
  readonly maxBodySize: number;
  /** Peers whose X-Forwarded-For names the client; empty = trust nobody. Match with cidrMatcher. */
  readonly trustedProxies: readonly CidrRange[];
  /** After SIGTERM, /readyz answers 503 and the front door keeps serving this long before the drain. */
  readonly shutdownDelayMs: number;
  /** Reload when the configuration file changes. */
  readonly watchConfig: boolean;
  /** Processes serving the front door: a count, or `auto` (the CPU quota, else the cores). */
  readonly workers: WorkersSetting;
  /** `tls_cert`, resolved; with `tls_key` the default certificate. */
  readonly tlsCert: string | undefined;
  readonly tlsKey: string | undefined;
  /** `tls_cert_dir`, resolved: a folder of `NAME.crt` + `NAME.key` pairs chosen by SNI. */
  readonly tlsCertDir: string | undefined;
  readonly tlsMinVersion: TlsVersion;
  /**
   * The certificates found when the configuration was read, the default first; empty without
   * TLS. The key files are read again by the listener: no key material is kept in the config.
   */
  readonly certificates: readonly ServerCertificate[];
  /** A plain listener answering 308 to the HTTPS URL; undefined: none. */
  readonly redirectHttpPort: number | undefined;
  /** With TLS on, ALPN offers `h2` besides `http/1.1`. */
  readonly http2: boolean;
  /** SETTINGS_MAX_CONCURRENT_STREAMS of each HTTP/2 connection. */
  readonly h2MaxConcurrentStreams: number;
}

export const TLS_VERSIONS = ['TLSv1.2', 'TLSv1.3'] as const;
export type TlsVersion = (typeof TLS_VERSIONS)[number];

/** A certificate of the front door, as validated from its files. */
export interface ServerCertificate {
  /** `tls_cert`, or NAME for `NAME.crt` in `tls_cert_dir`. */
  readonly name: string;
  readonly certFile: string;
  readonly keyFile: string;
  /** The DNS names (`*.example.com` included) and IP addresses of its subjectAltName. */
  readonly hostnames: readonly string[];
  /** The end of its validity, ISO 8601. */
  readonly validTo: string;
}

/** Reads and checks a certificate and key pair; every problem with them when they do not do. */
export type KeyPairReader = (
  certFile: string,
  keyFile: string,
) =>
  | { readonly ok: true; readonly value: Omit<ServerCertificate, 'name'> }
  | { readonly ok: false; readonly errors: readonly string[] };

/** The `NAME.crt` + `NAME.key` pairs of a folder, by name; or what is wrong with it. */
export type CertificateFolderReader = (dir: string) =>
  | {
      readonly ok: true;
      readonly value: readonly { name: string; certFile: string; keyFile: string }[];
    }
  | { readonly ok: false; readonly errors: readonly string[] };

export interface FrontendTlsFiles {
  readonly readKeyPair: KeyPairReader;
  readonly readFolder: CertificateFolderReader;
}

export interface ServerConfig {
  /** The key that named it, e.g. `server3`. */
  readonly name: string;
  readonly number: number;
  readonly host: string;
  readonly port: number;
  /** `host:port` as written in the file (IPv6 hosts in brackets). */
  readonly address: string;
  readonly maxWorkers: number;
  readonly minWorkers: number;
  readonly workerTimeoutMs: number;
  readonly bufferSize: number;
  /** Static weight for weighted-round-robin (and the base of dynamic weights). */
  readonly weight: number;
  /** Set for an `https://` or `wss://` address: the pool's TLS settings; undefined: plain. */
  readonly tls: BackendTls | undefined;
}

/** How the proxy connects to a TLS backend: the `tls_*` keys of its pool. */
export interface BackendTls {
  /** `tls_ca` as resolved (absolute, or relative to the working directory), if set. */
  readonly caFile: string | undefined;
  /** The PEM certificates of `tls_ca`, trusted besides the system store. */
  readonly ca: readonly string[] | undefined;
  /** `tls_servername`: the SNI name and the name the certificate must carry. */
  readonly servername: string | undefined;
  /** `tls_verify`: false accepts any certificate. */
  readonly verify: boolean;
}

export interface PoolConfig {
  /** `http`, `websocket`, or NAME of a `[pool:NAME]`: the pool's name in events, metrics, status. */
  readonly name: string;
  /** `websocket` for the `[websocket]` section; `http` for `[http]` and every `[pool:NAME]`. */
  readonly kind: PoolKind;
  readonly algorithm: Algorithm;
  readonly enableHealthCheck: boolean;
  readonly healthCheckIntervalMs: number;
  readonly healthCheckPath: string;
  readonly healthCheckTimeoutMs: number;
  /** Failed probes in a row that take a backend out of rotation. */
  readonly healthCheckFall: number;
  /** Good probes in a row that bring it back. */
  readonly healthCheckRise: number;
  readonly passiveHealthCheck: boolean;
  readonly maxFails: number;
  readonly ejectTimeMs: number;
  readonly maxEjectionPercent: number;
  readonly dynamicWeights: boolean;
  readonly slowStartMs: number;
  readonly hashKey: HashKey;
  /** 0 = unbounded; else no backend takes more than this percent of the mean load. */
  readonly hashBalanceFactor: number;
  readonly sticky: StickyMode;
  /** The sticky cookie's name; `[http]` and `[websocket]` share the default on purpose. */
  readonly stickyCookie: string;
  /** The cookie's Max-Age; undefined: a session cookie. */
  readonly stickyCookieMaxAgeMs: number | undefined;
  readonly stickyCookiePath: string;
  /** WebSocket: time for the backend to accept the upgrade. */
  readonly handshakeTimeoutMs: number;
  /** WebSocket: a larger message closes its connection with 1009. */
  readonly maxMessageSize: number;
  /** WebSocket: permessage-deflate on both hops. */
  readonly compression: boolean;
  /** WebSocket: ping both peers this often; 0 = off. */
  readonly pingIntervalMs: number;
  /** WebSocket: close after this long without messages; 0 = off. */
  readonly idleTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly responseTimeoutMs: number;
  readonly queueTimeoutMs: number;
  /** Further backends tried after a connection failure, for idempotent requests. */
  readonly retries: number;
  /** Send the client's Host header (true) or the backend's address (false). */
  readonly preserveHost: boolean;
  /** Requests that may wait in the pool's line when every backend's queue is full. */
  readonly maxPending: number;
  /** Request bodies up to this size are read before the request takes a worker; 0 = never. */
  readonly requestBufferSize: number;
  /** Memory for all buffered request bodies together; beyond it bodies stream. */
  readonly requestBufferTotal: number;
  /** Ordered by server number. */
  readonly servers: readonly ServerConfig[];
}

/** What a rate limit counts requests by: the client address or a header's value. */
export type RateLimitKey =
  { readonly source: 'ip' } | { readonly source: 'header'; readonly name: string };

export interface RateLimitConfig {
  /** As written, e.g. `100/s` or `600/m`. */
  readonly text: string;
  readonly tokensPerSecond: number;
  /** Requests one key may make at once (the bucket's size). */
  readonly burst: number;
  readonly key: RateLimitKey;
  /** Most keys tracked at once. */
  readonly maxKeys: number;
}

/** `[lower-case name, value]`; an empty value removes the header. */
export type HeaderEdit = readonly [name: string, value: string];

export interface HooksConfig {
  /** The hook module's path: absolute, or relative to the working directory when the config file's path was relative. */
  readonly module: string | undefined;
  readonly hookTimeoutMs: number;
  /** Give every request an id in `requestIdHeader` (kept when the client sent one). */
  readonly requestId: boolean;
  /** Lower-case. */
  readonly requestIdHeader: string;
  /** Client addresses let in; empty = everyone. Match with cidrMatcher. */
  readonly allowFrom: readonly CidrRange[];
  /** Undefined = no rate limit. */
  readonly rateLimit: RateLimitConfig | undefined;
  /** A path prefix removed before forwarding, e.g. `/api`; never ends with `/`. */
  readonly stripPrefix: string | undefined;
  /** In the order of their numbers. */
  readonly requestHeaders: readonly HeaderEdit[];
  readonly responseHeaders: readonly HeaderEdit[];
}

export interface Config {
  /** The file the configuration came from, used in messages. */
  readonly file: string;
  readonly frontend: FrontendConfig;
  readonly http: PoolConfig | undefined;
  readonly websocket: PoolConfig | undefined;
  /** The `[pool:NAME]` sections by name (`http` and `websocket` are the two above). */
  readonly pools: Readonly<Record<string, PoolConfig>>;
  /** The `[route:NAME]` sections, in file order; none: every request takes the default route. */
  readonly routes: readonly RouteConfig[];
  /** Always present; every hook is off by default. */
  readonly hooks: HooksConfig;
  readonly admin: AdminConfig;
}

/** Every pool of a configuration by name: `http`, `websocket`, then the `[pool:NAME]` ones. */
export function poolsByName(config: Config): ReadonlyMap<string, PoolConfig> {
  const pools = new Map<string, PoolConfig>();
  if (config.http) pools.set('http', config.http);
  if (config.websocket) pools.set('websocket', config.websocket);
  for (const [name, pool] of Object.entries(config.pools)) pools.set(name, pool);
  return pools;
}

/** A `[route:NAME]` section. */
export interface RouteConfig {
  readonly name: string;
  /** Exact names and `*.domain` wildcards, lower case; empty: any host. */
  readonly hosts: readonly string[];
  /** Starts with `/`, no trailing `/`; undefined: every path. */
  readonly pathPrefix: string | undefined;
  /** Remove `pathPrefix` from the path before forwarding. */
  readonly stripPathPrefix: boolean;
  /** The pool for HTTP requests: `http`, `websocket` or a `[pool:NAME]`. */
  readonly pool: string;
  /** The pool for WebSocket upgrades; `pool` unless written. */
  readonly websocketPool: string;
  /** Higher first; undefined counts as 0. */
  readonly priority: number | undefined;
}

/** The `[admin]` listener: health endpoints, status, metrics, events and the dashboard. */
export interface AdminConfig {
  readonly host: string;
  /** No admin listener when undefined. */
  readonly port: number | undefined;
  /** When set, admin requests other than /livez and /readyz need `Authorization: Bearer <token>`. */
  readonly token: string | undefined;
  /** Upper bounds of `rxproxy_request_duration_seconds`, in seconds. */
  readonly metricsBuckets: readonly number[];
}

export interface ConfigProblem {
  readonly file: string;
  readonly section?: string;
  readonly key?: string;
  readonly message: string;
}

/** Reads a PEM file for `tls_ca`: its certificates, or what is wrong with it. */
export type CertificateReader = (
  path: string,
) =>
  | { readonly ok: true; readonly value: readonly string[] }
  | { readonly ok: false; readonly error: string };

export type ConfigResult =
  | { readonly ok: true; readonly config: Config }
  | { readonly ok: false; readonly problems: readonly ConfigProblem[] };

export function formatProblem(problem: ConfigProblem): string {
  const parts = [
    problem.section === undefined ? undefined : `[${problem.section}]`,
    problem.key,
  ].filter((part) => part !== undefined);
  const where = parts.length === 0 ? '' : ` ${parts.join(' ')}:`;
  return `${problem.file}:${where} ${problem.message}`;
}
