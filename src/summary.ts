import {
  poolsByName,
  type AdminConfig,
  type Config,
  type HashKey,
  type HooksConfig,
  type PoolConfig,
  type RateLimitKey,
  type RouteConfig,
  type ServerConfig,
} from './config';

const seconds = (ms: number) => `${ms / 1000}s`;

/** Written as in the file: `ip`, `path`, `header:NAME`, `cookie:NAME` (rate_limit_key alike). */
const hashKeyText = (key: HashKey | RateLimitKey) =>
  'name' in key ? `${key.source}:${key.name}` : key.source;

function describeAlgorithm(pool: PoolConfig): string {
  const algorithm =
    pool.algorithm === 'consistent-hash'
      ? `consistent-hash (hash_key=${hashKeyText(pool.hashKey)})`
      : pool.algorithm;
  return pool.sticky === 'cookie' ? `${algorithm}, sticky cookie ${pool.stickyCookie}` : algorithm;
}

/** `TLS`, with the CA file, server name and an unverified certificate when they apply. */
function describeTls(server: ServerConfig): string[] {
  const { tls } = server;
  if (!tls) return [];
  const parts = [
    'TLS',
    ...(tls.caFile === undefined ? [] : [`ca ${tls.caFile}`]),
    ...(tls.servername === undefined ? [] : [`servername ${tls.servername}`]),
    ...(tls.verify ? [] : ['certificate NOT verified']),
  ];
  return [parts.join(' ')];
}

function describeServer(pool: PoolConfig, server: ServerConfig): string {
  const details = [
    ...describeTls(server),
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

/** `route api: host api.example.com, path /v1 (stripped) -> api, upgrades -> chat`. */
function describeRoute(route: RouteConfig): string {
  const match = [
    ...(route.hosts.length > 0 ? [`host ${route.hosts.join(', ')}`] : []),
    ...(route.pathPrefix === undefined
      ? []
      : [`path ${route.pathPrefix}${route.stripPathPrefix ? ' (stripped)' : ''}`]),
    ...(route.priority === undefined ? [] : [`priority ${route.priority}`]),
  ];
  const upgrades = route.websocketPool === route.pool ? '' : `, upgrades -> ${route.websocketPool}`;
  return `route ${route.name}: ${match.length > 0 ? match.join(', ') : 'every request'} -> ${route.pool}${upgrades}`;
}

function describePool(pool: PoolConfig): string[] {
  const health = pool.enableHealthCheck
    ? `health checks of ${pool.healthCheckPath} every ${seconds(pool.healthCheckIntervalMs)}`
    : 'no health checks';
  return [
    `[${pool.name === pool.kind ? pool.name : `pool:${pool.name}`}] ${describeAlgorithm(pool)}, ${health}, ${pool.servers.length} server(s):`,
    ...pool.servers.map((server) => describeServer(pool, server)),
  ];
}

const ranges = (list: readonly { readonly text: string }[]) =>
  list.map((range) => range.text).join(' ');

/** One line naming the hooks that are on, or none when every one is off. */
function describeHooks(hooks: HooksConfig): string[] {
  const { rateLimit } = hooks;
  const parts = [
    hooks.module && `module ${hooks.module} (timeout ${seconds(hooks.hookTimeoutMs)})`,
    hooks.requestId && `request ids in ${hooks.requestIdHeader}`,
    hooks.allowFrom.length > 0 && `allow from ${ranges(hooks.allowFrom)}`,
    rateLimit &&
      `rate limit ${rateLimit.text} per ${hashKeyText(rateLimit.key)} (burst ${rateLimit.burst})`,
    hooks.stripPrefix && `strip prefix ${hooks.stripPrefix}`,
    hooks.requestHeaders.length > 0 && `${hooks.requestHeaders.length} request header edit(s)`,
    hooks.responseHeaders.length > 0 && `${hooks.responseHeaders.length} response header edit(s)`,
  ].filter((part): part is string => typeof part === 'string' && part !== '');
  return parts.length > 0 ? [`hooks: ${parts.join(', ')}`] : [];
}

/** The admin listener's line, when there is one; never the token itself. */
function describeAdmin(admin: AdminConfig): string[] {
  if (admin.port === undefined) return [];
  return [
    `admin ${admin.host}:${admin.port}${admin.token === undefined ? '' : ', token required'}`,
  ];
}

/** The short summary `rxproxy --check` prints for a valid configuration. */
export function describeConfig(config: Config): string {
  const { trustedProxies } = config.frontend;
  const trusted = trustedProxies.length > 0 ? `, trusted proxies ${ranges(trustedProxies)}` : '';
  const { workers } = config.frontend;
  const processes = workers === 1 ? '' : `, workers ${workers}`;
  return [
    `${config.file}: configuration is valid`,
    `frontend ${config.frontend.host}:${config.frontend.port}, log level ${config.frontend.logLevel}, drain ${seconds(config.frontend.drainTimeoutMs)}${processes}${trusted}`,
    ...[...poolsByName(config).values()].flatMap(describePool),
    ...config.routes.map(describeRoute),
    ...describeHooks(config.hooks),
    ...describeAdmin(config.admin),
  ].join('\n');
}
