import {
  parseAddress,
  parseAlgorithm,
  parseHashKey,
  parsePath,
  parseBoolean,
  parseDurationMs,
  parseHost,
  parseInteger,
  parseLogLevel,
  parseSticky,
  parseCookieName,
  parseCookiePath,
  parsePort,
  parseServerName,
  parseSize,
  parseTlsVersion,
  parseWorkers,
  type Parsed,
} from './values';
import {
  optional,
  parseAddressList,
  parseHeaderLine,
  parseHeaderName,
  parseModulePath,
  parseRate,
  parseRateLimitKey,
  parseStripPrefix,
} from './hookValues';
import { DEFAULT_METRICS_BUCKETS, parseBuckets, parseToken } from './adminValues';
import { parsePathPrefix, parsePoolName, parsePriority, parseRouteHosts } from './routeValues';

export const SECTIONS = ['frontend', 'http', 'websocket', 'hooks', 'admin'] as const;
/** Sections written with a name: `[pool:NAME]`, `[route:NAME]`. */
export const NAMED_SECTIONS = ['pool', 'route'] as const;
export type SectionName = (typeof SECTIONS)[number] | (typeof NAMED_SECTIONS)[number];

/**
 * Where a key lives: `frontend`, `pool`, `hooks` and `admin` keys are written as they are; `server` keys
 * are written `serverN_<key>` (or plain `serverN` for the address); `numbered` keys `<key>N`.
 */
export type KeyScope = 'frontend' | 'pool' | 'server' | 'hooks' | 'numbered' | 'admin' | 'route';

export type Unit =
  | 'seconds'
  | 'count'
  | 'port'
  | 'boolean'
  | 'text'
  | 'host:port'
  | 'percent'
  | 'bytes'
  | 'addresses'
  | 'rate'
  | 'buckets';
type Origin = KeySpec['origin'];
type Parser = KeySpec['parse'];

export interface KeySpec {
  readonly key: string;
  readonly scope: KeyScope;
  readonly sections: readonly SectionName[];
  /** The documented default, parsed like a written value; undefined when the key is required. */
  readonly defaultText: string | undefined;
  readonly unit: Unit;
  /** Whether the Go original had the key (our compatibility contract) or rxproxy added it. */
  readonly origin: 'original' | 'rxproxy';
  readonly parse: (text: string) => Parsed<unknown>;
}

const POOLS: readonly SectionName[] = ['http', 'websocket', 'pool'];
const HTTP: readonly SectionName[] = ['http', 'pool'];
const ROUTE: readonly SectionName[] = ['route'];
const FRONTEND: readonly SectionName[] = ['frontend'];
const HOOKS: readonly SectionName[] = ['hooks'];
const ADMIN: readonly SectionName[] = ['admin'];

const positiveDuration = (text: string) => parseDurationMs(text, 1);
const duration = (text: string) => parseDurationMs(text, 0);
const atLeastOne = (text: string) => parseInteger(text, 1);
const atLeastZero = (text: string) => parseInteger(text, 0);
const percent = (text: string) => parseInteger(text, 0, 100);
const balanceFactor = (text: string) => {
  const parsed = parseInteger(text, 0);
  return parsed.ok && parsed.value > 0 && parsed.value < 100
    ? { ok: false as const, error: `${text} must be 0 (off) or at least 100 (percent of the mean)` }
    : parsed;
};
const port = (text: string) => parsePort(text, 0);
/** A size where 0 means off (no limit, no buffering). */
const sizeOrZero = (text: string) => parseSize(text, 0);
const optionalCount = optional(atLeastOne);
/** A cookie's Max-Age is in whole seconds, at least one. */
const wholeSeconds = (text: string) => {
  const parsed = parseDurationMs(text, 1);
  return parsed.ok && parsed.value % 1000 !== 0
    ? { ok: false as const, error: `"${text}" must be whole seconds (at least 1)` }
    : parsed;
};

type Row = [string, KeyScope, readonly SectionName[], string | undefined, Unit, Origin, Parser];

/** One row per key: name, scope, sections, default, unit, origin, parser. */
const ROWS: readonly Row[] = [
  ['host', 'frontend', FRONTEND, undefined, 'text', 'original', parseHost],
  ['port', 'frontend', FRONTEND, undefined, 'port', 'original', port],
  ['log_level', 'frontend', FRONTEND, 'info', 'text', 'rxproxy', parseLogLevel],
  ['drain_timeout', 'frontend', FRONTEND, '10', 'seconds', 'rxproxy', duration],
  ['header_timeout', 'frontend', FRONTEND, '10', 'seconds', 'rxproxy', positiveDuration],
  ['body_timeout', 'frontend', FRONTEND, '60', 'seconds', 'rxproxy', positiveDuration],
  ['max_body_size', 'frontend', FRONTEND, '0', 'bytes', 'rxproxy', sizeOrZero],
  ['trusted_proxies', 'frontend', FRONTEND, '', 'addresses', 'rxproxy', parseAddressList],
  ['shutdown_delay', 'frontend', FRONTEND, '0', 'seconds', 'rxproxy', duration],
  ['watch_config', 'frontend', FRONTEND, 'false', 'boolean', 'rxproxy', parseBoolean],
  ['workers', 'frontend', FRONTEND, '1', 'count', 'rxproxy', parseWorkers],
  ['tls_cert', 'frontend', FRONTEND, '', 'text', 'rxproxy', optional(parseModulePath)],
  ['tls_key', 'frontend', FRONTEND, '', 'text', 'rxproxy', optional(parseModulePath)],
  ['tls_cert_dir', 'frontend', FRONTEND, '', 'text', 'rxproxy', optional(parseModulePath)],
  ['tls_min_version', 'frontend', FRONTEND, 'TLSv1.2', 'text', 'rxproxy', parseTlsVersion],
  ['redirect_http_port', 'frontend', FRONTEND, '', 'port', 'rxproxy', optional(port)],
  ['http2', 'frontend', FRONTEND, 'true', 'boolean', 'rxproxy', parseBoolean],
  ['h2_max_concurrent_streams', 'frontend', FRONTEND, '128', 'count', 'rxproxy', atLeastOne],

  ['enable_health_check', 'pool', POOLS, 'false', 'boolean', 'original', parseBoolean],
  ['health_check_interval', 'pool', POOLS, '10', 'seconds', 'original', positiveDuration],
  ['algorithm', 'pool', POOLS, 'random', 'text', 'original', parseAlgorithm],
  ['health_check_path', 'pool', POOLS, '/healthCheck', 'text', 'rxproxy', parsePath],
  ['health_check_timeout', 'pool', POOLS, '2', 'seconds', 'rxproxy', positiveDuration],
  ['health_check_fall', 'pool', POOLS, '1', 'count', 'rxproxy', atLeastOne],
  ['health_check_rise', 'pool', POOLS, '2', 'count', 'rxproxy', atLeastOne],
  ['passive_health_check', 'pool', POOLS, 'true', 'boolean', 'rxproxy', parseBoolean],
  ['max_fails', 'pool', POOLS, '5', 'count', 'rxproxy', atLeastOne],
  ['eject_time', 'pool', POOLS, '30', 'seconds', 'rxproxy', positiveDuration],
  ['max_ejection_percent', 'pool', POOLS, '50', 'percent', 'rxproxy', percent],
  ['dynamic_weights', 'pool', POOLS, 'false', 'boolean', 'rxproxy', parseBoolean],
  ['slow_start', 'pool', POOLS, '0', 'seconds', 'rxproxy', duration],
  ['hash_key', 'pool', POOLS, 'ip', 'text', 'rxproxy', parseHashKey],
  ['hash_balance_factor', 'pool', POOLS, '0', 'percent', 'rxproxy', balanceFactor],
  ['sticky', 'pool', POOLS, 'none', 'text', 'rxproxy', parseSticky],
  ['sticky_cookie', 'pool', POOLS, 'rxproxy_server', 'text', 'rxproxy', parseCookieName],
  ['sticky_cookie_max_age', 'pool', POOLS, '', 'seconds', 'rxproxy', optional(wholeSeconds)],
  ['sticky_cookie_path', 'pool', POOLS, '/', 'text', 'rxproxy', parseCookiePath],
  ['connect_timeout', 'pool', HTTP, '5', 'seconds', 'rxproxy', positiveDuration],
  ['response_timeout', 'pool', HTTP, '60', 'seconds', 'rxproxy', positiveDuration],
  ['queue_timeout', 'pool', HTTP, '5', 'seconds', 'rxproxy', positiveDuration],
  ['retries', 'pool', HTTP, '1', 'count', 'rxproxy', atLeastZero],
  ['preserve_host', 'pool', HTTP, 'true', 'boolean', 'rxproxy', parseBoolean],
  ['max_workers', 'pool', HTTP, '3', 'count', 'rxproxy', atLeastOne],
  ['min_workers', 'pool', HTTP, '1', 'count', 'rxproxy', atLeastZero],
  ['worker_timeout', 'pool', HTTP, '3', 'seconds', 'rxproxy', positiveDuration],
  ['buffer_size', 'pool', HTTP, '10', 'count', 'rxproxy', atLeastOne],
  ['max_pending', 'pool', HTTP, '10000', 'count', 'rxproxy', atLeastZero],
  ['request_buffer_size', 'pool', HTTP, '1MiB', 'bytes', 'rxproxy', sizeOrZero],
  ['request_buffer_total', 'pool', HTTP, '256MiB', 'bytes', 'rxproxy', sizeOrZero],
  ['weight', 'pool', POOLS, '1', 'count', 'rxproxy', atLeastOne],
  ['handshake_timeout', 'pool', POOLS, '10', 'seconds', 'rxproxy', positiveDuration],
  ['max_message_size', 'pool', POOLS, '16MiB', 'bytes', 'rxproxy', parseSize],
  ['compression', 'pool', POOLS, 'false', 'boolean', 'rxproxy', parseBoolean],
  ['ping_interval', 'pool', POOLS, '30', 'seconds', 'rxproxy', duration],
  ['idle_timeout', 'pool', POOLS, '0', 'seconds', 'rxproxy', duration],
  ['tls_ca', 'pool', POOLS, '', 'text', 'rxproxy', optional(parseModulePath)],
  ['tls_servername', 'pool', POOLS, '', 'text', 'rxproxy', optional(parseServerName)],
  ['tls_verify', 'pool', POOLS, 'true', 'boolean', 'rxproxy', parseBoolean],

  ['', 'server', POOLS, undefined, 'host:port', 'original', parseAddress],
  ['addr', 'server', POOLS, undefined, 'host:port', 'original', parseAddress],
  ['max_workers', 'server', HTTP, '3', 'count', 'original', atLeastOne],
  ['min_workers', 'server', HTTP, '1', 'count', 'original', atLeastZero],
  ['worker_timeout', 'server', HTTP, '3', 'seconds', 'original', positiveDuration],
  ['buffer_size', 'server', HTTP, '10', 'count', 'original', atLeastOne],
  ['weight', 'server', POOLS, '1', 'count', 'rxproxy', atLeastOne],

  ['module', 'hooks', HOOKS, '', 'text', 'rxproxy', optional(parseModulePath)],
  ['hook_timeout', 'hooks', HOOKS, '5', 'seconds', 'rxproxy', positiveDuration],
  ['request_id', 'hooks', HOOKS, 'false', 'boolean', 'rxproxy', parseBoolean],
  ['request_id_header', 'hooks', HOOKS, 'X-Request-Id', 'text', 'rxproxy', parseHeaderName],
  ['allow_from', 'hooks', HOOKS, '', 'addresses', 'rxproxy', parseAddressList],
  ['rate_limit', 'hooks', HOOKS, '', 'rate', 'rxproxy', optional(parseRate)],
  ['rate_limit_burst', 'hooks', HOOKS, '', 'count', 'rxproxy', optionalCount],
  ['rate_limit_key', 'hooks', HOOKS, 'ip', 'text', 'rxproxy', parseRateLimitKey],
  ['rate_limit_keys', 'hooks', HOOKS, '100000', 'count', 'rxproxy', atLeastOne],
  ['strip_prefix', 'hooks', HOOKS, '', 'text', 'rxproxy', optional(parseStripPrefix)],
  ['request_header', 'numbered', HOOKS, undefined, 'text', 'rxproxy', parseHeaderLine],
  ['response_header', 'numbered', HOOKS, undefined, 'text', 'rxproxy', parseHeaderLine],

  ['host', 'route', ROUTE, '', 'text', 'rxproxy', parseRouteHosts],
  ['path_prefix', 'route', ROUTE, '', 'text', 'rxproxy', optional(parsePathPrefix)],
  ['strip_path_prefix', 'route', ROUTE, 'false', 'boolean', 'rxproxy', parseBoolean],
  ['pool', 'route', ROUTE, undefined, 'text', 'rxproxy', parsePoolName],
  ['websocket_pool', 'route', ROUTE, '', 'text', 'rxproxy', optional(parsePoolName)],
  ['priority', 'route', ROUTE, '', 'count', 'rxproxy', optional(parsePriority)],

  ['host', 'admin', ADMIN, '127.0.0.1', 'text', 'rxproxy', parseHost],
  ['port', 'admin', ADMIN, '', 'port', 'rxproxy', optional(port)],
  ['token', 'admin', ADMIN, '', 'text', 'rxproxy', optional(parseToken)],
  ['metrics_buckets', 'admin', ADMIN, DEFAULT_METRICS_BUCKETS, 'buckets', 'rxproxy', parseBuckets],
];

export const KEY_SPECS: readonly KeySpec[] = ROWS.map(
  ([key, scope, sections, defaultText, unit, origin, parse]) => ({
    key,
    scope,
    sections,
    defaultText,
    unit,
    origin,
    parse,
  }),
);

/** The name a key is written with in a file, with `N` for the server (or line) number. */
export function writtenName(spec: KeySpec, serverNumber: string | number = 'N'): string {
  if (spec.scope === 'numbered') return `${spec.key}${serverNumber}`;
  if (spec.scope !== 'server') return spec.key;
  return spec.key === '' ? `server${serverNumber}` : `server${serverNumber}_${spec.key}`;
}

export function specFor(section: SectionName, scope: KeyScope, key: string): KeySpec | undefined {
  return KEY_SPECS.find(
    (spec) => spec.scope === scope && spec.key === key && spec.sections.includes(section),
  );
}

/** The parsed default of a key that has one. */
export function defaultOf<T>(section: SectionName, scope: KeyScope, key: string): T {
  const spec = specFor(section, scope, key) ?? specFor('http', scope, key);
  const parsed = spec?.defaultText === undefined ? undefined : spec.parse(spec.defaultText);
  if (!parsed?.ok) {
    throw new Error(`no default for ${scope} key ${key}`);
  }
  return parsed.value as T;
}
