import { expandEnv, type Environment } from './expandEnv';
import {
  KEY_SPECS,
  NAMED_SECTIONS,
  SECTIONS,
  defaultOf,
  specFor,
  writtenName,
  type KeyScope,
  type SectionName,
} from './schema';
import { readHooks } from './readHooks';
import { readRoutes } from './readRoutes';
import { POOL_NAME } from './routeValues';
import { NO_TLS_FILES, readFrontendTls } from './frontendTls';
import { didYouMean } from './suggest';
import { resolveFrom } from './hookValues';
import type {
  AdminConfig,
  Algorithm,
  BackendTls,
  CertificateReader,
  Config,
  ConfigProblem,
  ConfigResult,
  FrontendConfig,
  FrontendTlsFiles,
  HashKey,
  StickyMode,
  LogLevel,
  PoolConfig,
  ServerConfig,
  WorkersSetting,
} from './types';
import type { CidrRange } from '../net/cidr';
import type { Address } from './values';

/** What an INI parser returns: sections as objects, values as strings (or booleans, lists). */
export type RawIni = Readonly<Record<string, unknown>>;

interface SectionValues {
  /** Every key written in the section, valid or not. */
  readonly given: Set<string>;
  readonly pool: Map<string, unknown>;
  /** server number → key → value; key '' and 'addr' both hold the address. */
  readonly servers: Map<number, Map<string, unknown>>;
}

const SERVER_KEY = /^server(\d+)(?:_(.*))?$/;
const NUMBERED_KEY = /^(\D+)(\d+)$/;

class ProblemList {
  readonly items: ConfigProblem[] = [];
  constructor(readonly file: string) {}
  add(section: string | undefined, key: string | undefined, message: string): void {
    this.items.push({ file: this.file, section, key, message });
  }
}

function candidateNames(section: SectionName, serverNumber: string): string[] {
  return KEY_SPECS.filter((spec) => spec.sections.includes(section)).map((spec) =>
    writtenName(spec, serverNumber),
  );
}

/** The server number written in a key, even a misspelled one (`sever3_addr` → 3), else 1. */
function serverNumberIn(key: string): string {
  return SERVER_KEY.exec(key)?.[1] ?? /\d+/.exec(key)?.[0] ?? '1';
}

function rawText(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim();
  if (typeof value === 'boolean') return String(value);
  return undefined;
}

function serverEntry(values: SectionValues, number: number): Map<string, unknown> {
  const server = values.servers.get(number) ?? new Map<string, unknown>();
  values.servers.set(number, server);
  return server;
}

/** The scope of a key that is no server key: `request_header3` is numbered; the rest plain. */
function plainKeyScope(section: SectionName, key: string): { scope: KeyScope; specKey: string } {
  if (section === 'frontend') return { scope: 'frontend', specKey: key };
  if (section === 'admin') return { scope: 'admin', specKey: key };
  if (section === 'route') return { scope: 'route', specKey: key };
  if (section !== 'hooks') return { scope: 'pool', specKey: key };
  const numbered = NUMBERED_KEY.exec(key)?.[1];
  return numbered !== undefined && specFor(section, 'numbered', numbered)
    ? { scope: 'numbered', specKey: numbered }
    : { scope: 'hooks', specKey: key };
}

function readSection(
  section: SectionName,
  entries: Readonly<Record<string, unknown>>,
  env: Environment,
  problems: ProblemList,
  label: string = section,
): SectionValues {
  const values: SectionValues = { given: new Set(), pool: new Map(), servers: new Map() };
  for (const [key, value] of Object.entries(entries)) {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      problems.add(`${label}.${key}`, undefined, 'unknown section');
      continue;
    }
    const text = rawText(value);
    if (text === undefined) {
      problems.add(label, key, 'is given as a list; write it once as key=value');
      continue;
    }
    values.given.add(key);
    const serverMatch =
      section === 'http' || section === 'websocket' || section === 'pool'
        ? SERVER_KEY.exec(key)
        : null;
    const { scope, specKey } = serverMatch
      ? { scope: 'server' as const, specKey: serverMatch[2] ?? '' }
      : plainKeyScope(section, key);
    const spec = specFor(section, scope, specKey);
    const server = scope === 'server' ? serverEntry(values, Number(serverMatch?.[1])) : undefined;
    if (!spec) {
      const suggestion = didYouMean(key, candidateNames(section, serverNumberIn(key)));
      problems.add(label, key, `unknown key${suggestion}`);
      continue;
    }
    const expanded = expandEnv(text, env);
    const parsed = expanded.ok ? spec.parse(expanded.value.trim()) : expanded;
    if (!parsed.ok) {
      for (const message of [parsed.error, ...(parsed.moreErrors ?? [])]) {
        problems.add(label, key, message);
      }
      continue;
    }
    if (server) {
      server.set(specKey, parsed.value);
    } else {
      values.pool.set(key, parsed.value);
    }
  }
  return values;
}

function readFrontend(
  values: SectionValues | undefined,
  problems: ProblemList,
  tlsFiles: FrontendTlsFiles,
) {
  if (!values) {
    problems.add('frontend', undefined, 'missing section (host and port are required)');
    return undefined;
  }
  const host = values.pool.get('host') as string | undefined;
  const port = values.pool.get('port') as number | undefined;
  for (const key of ['host', 'port']) {
    if (!values.given.has(key)) problems.add('frontend', key, 'is required');
  }
  if (host === undefined || port === undefined) return undefined;
  const setting = <T>(key: string): T =>
    (values.pool.get(key) as T | undefined) ?? defaultOf<T>('frontend', 'frontend', key);
  const frontend: FrontendConfig = {
    host,
    port,
    logLevel: setting<LogLevel>('log_level'),
    drainTimeoutMs: setting<number>('drain_timeout'),
    headerTimeoutMs: setting<number>('header_timeout'),
    bodyTimeoutMs: setting<number>('body_timeout'),
    maxBodySize: setting<number>('max_body_size'),
    trustedProxies: setting<readonly CidrRange[]>('trusted_proxies'),
    shutdownDelayMs: setting<number>('shutdown_delay'),
    watchConfig: setting<boolean>('watch_config'),
    workers: setting<WorkersSetting>('workers'),
    ...readFrontendTls(values.pool, problems.file, tlsFiles, (key, message) =>
      problems.add('frontend', key, message),
    ),
  };
  return frontend;
}

function readAdmin(settings: ReadonlyMap<string, unknown>): AdminConfig {
  const setting = <T>(key: string): T =>
    settings.has(key) ? (settings.get(key) as T) : defaultOf<T>('admin', 'admin', key);
  return {
    host: setting<string>('host'),
    port: setting<number | undefined>('port'),
    token: setting<string | undefined>('token'),
    metricsBuckets: setting<readonly number[]>('metrics_buckets'),
  };
}

function readServer(
  section: SectionName,
  label: string,
  number: number,
  keys: Map<string, unknown>,
  values: SectionValues,
  problems: ProblemList,
  tls: BackendTls | undefined,
): ServerConfig | undefined {
  const pool = values.pool;
  const name = `server${number}`;
  const plain = keys.get('') as Address | undefined;
  const addr = keys.get('addr') as Address | undefined;
  if (
    plain &&
    addr &&
    (plain.host !== addr.host || plain.port !== addr.port || plain.tls !== addr.tls)
  ) {
    problems.add(label, `${name}_addr`, `conflicts with ${name}=${formatAddress(plain)}`);
  }
  const address = addr ?? plain;
  const addressGiven = values.given.has(name) || values.given.has(`${name}_addr`);
  if (!address && !addressGiven) {
    problems.add(label, name, `has settings but no address (add ${name}=host:port)`);
  }
  const setting = (key: string): number =>
    (keys.get(key) as number | undefined) ??
    (pool.get(key) as number | undefined) ??
    defaultOf<number>(section, 'server', key);
  const minWorkers = setting('min_workers');
  const maxWorkers = setting('max_workers');
  // Checked even without a usable address, so that one run reports every problem.
  if (minWorkers > maxWorkers) {
    const key = keys.has('min_workers')
      ? `${name}_min_workers`
      : keys.has('max_workers')
        ? `${name}_max_workers`
        : 'min_workers';
    problems.add(
      label,
      key,
      `min_workers (${minWorkers}) is greater than max_workers (${maxWorkers}) for ${name}`,
    );
  }
  if (!address) return undefined;
  return {
    name,
    number,
    host: address.host,
    port: address.port,
    address: formatAddress(address),
    maxWorkers,
    minWorkers,
    workerTimeoutMs: setting('worker_timeout'),
    bufferSize: setting('buffer_size'),
    weight: setting('weight'),
    tls: address.tls ? tls : undefined,
  };
}

/**
 * The pool's TLS settings, read whether or not a server uses them (a bad `tls_ca` is a problem
 * either way); undefined when `tls_ca` cannot be used.
 */
function readTls(
  label: string,
  values: SectionValues,
  problems: ProblemList,
  readCertificates: CertificateReader,
): BackendTls | undefined {
  const written = values.pool.get('tls_ca') as string | undefined;
  const caFile = written === undefined ? undefined : resolveFrom(problems.file, written);
  const certificates = caFile === undefined ? undefined : readCertificates(caFile);
  if (certificates && !certificates.ok) {
    problems.add(label, 'tls_ca', certificates.error);
    return undefined;
  }
  return {
    caFile,
    ca: certificates?.value,
    servername: values.pool.get('tls_servername') as string | undefined,
    verify: (values.pool.get('tls_verify') as boolean | undefined) ?? true,
  };
}

function formatAddress(address: Address): string {
  return address.host.includes(':')
    ? `[${address.host}]:${address.port}`
    : `${address.host}:${address.port}`;
}

/** A pool section: `[http]`, `[websocket]`, or `[pool:NAME]` (an HTTP pool WebSockets may use). */
function readPool(
  kind: 'http' | 'websocket',
  name: string,
  values: SectionValues,
  problems: ProblemList,
  readCertificates: CertificateReader,
  section: SectionName = kind,
  label: string = kind,
): PoolConfig {
  const tls = readTls(label, values, problems, readCertificates);
  const servers = [...values.servers.entries()]
    .sort(([a], [b]) => a - b)
    .map(([number, keys]) => readServer(section, label, number, keys, values, problems, tls))
    .filter((server): server is ServerConfig => server !== undefined);
  if (values.servers.size === 0) {
    problems.add(label, undefined, 'no servers (add server1=host:port)');
  }
  const setting = <T>(key: string): T =>
    (values.pool.get(key) as T | undefined) ?? defaultOf<T>(section, 'pool', key);
  return {
    name,
    kind,
    algorithm: setting<Algorithm>('algorithm'),
    enableHealthCheck: setting<boolean>('enable_health_check'),
    healthCheckIntervalMs: setting<number>('health_check_interval'),
    healthCheckPath: setting<string>('health_check_path'),
    healthCheckTimeoutMs: setting<number>('health_check_timeout'),
    healthCheckFall: setting<number>('health_check_fall'),
    healthCheckRise: setting<number>('health_check_rise'),
    passiveHealthCheck: setting<boolean>('passive_health_check'),
    maxFails: setting<number>('max_fails'),
    ejectTimeMs: setting<number>('eject_time'),
    maxEjectionPercent: setting<number>('max_ejection_percent'),
    dynamicWeights: setting<boolean>('dynamic_weights'),
    slowStartMs: setting<number>('slow_start'),
    hashKey: setting<HashKey>('hash_key'),
    hashBalanceFactor: setting<number>('hash_balance_factor'),
    sticky: setting<StickyMode>('sticky'),
    stickyCookie: setting<string>('sticky_cookie'),
    stickyCookieMaxAgeMs: values.pool.get('sticky_cookie_max_age') as number | undefined,
    stickyCookiePath: setting<string>('sticky_cookie_path'),
    handshakeTimeoutMs: setting<number>('handshake_timeout'),
    maxMessageSize: setting<number>('max_message_size'),
    compression: setting<boolean>('compression'),
    pingIntervalMs: setting<number>('ping_interval'),
    idleTimeoutMs: setting<number>('idle_timeout'),
    connectTimeoutMs: setting<number>('connect_timeout'),
    responseTimeoutMs: setting<number>('response_timeout'),
    queueTimeoutMs: setting<number>('queue_timeout'),
    retries: setting<number>('retries'),
    preserveHost: setting<boolean>('preserve_host'),
    maxPending: setting<number>('max_pending'),
    requestBufferSize: setting<number>('request_buffer_size'),
    requestBufferTotal: setting<number>('request_buffer_total'),
    servers,
  };
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/** Without a reader of its own, a config cannot name a `tls_ca` file. */
const NO_FILES: CertificateReader = (path) => ({
  ok: false,
  error: `${path}: files are not read here (load the configuration from a file)`,
});

/**
 * Turns a parsed INI file into a frozen Config, or lists every problem found, each naming the
 * file, section and key. `readCertificates` reads the `tls_ca` files, `tlsFiles` the front door's
 * certificates and keys (an adapter's job).
 */
export function buildConfig(
  raw: RawIni,
  file: string,
  env: Environment,
  earlierProblems: readonly ConfigProblem[] = [],
  readCertificates: CertificateReader = NO_FILES,
  tlsFiles: FrontendTlsFiles = NO_TLS_FILES,
): ConfigResult {
  const problems = new ProblemList(file);
  problems.items.push(...earlierProblems);
  const sections = new Map<SectionName, SectionValues>();
  /** `[pool:NAME]` and `[route:NAME]` sections by kind, then name. */
  const named = { pool: new Map<string, SectionValues>(), route: new Map<string, SectionValues>() };
  for (const [name, entries] of Object.entries(raw)) {
    const kindAndName = /^(pool|route):(.*)$/.exec(name);
    if (entries === null || typeof entries !== 'object' || Array.isArray(entries)) {
      problems.add(
        undefined,
        name,
        `key outside any section (put it under [frontend], [http], [websocket], [hooks] or [admin])`,
      );
    } else if (kindAndName) {
      const kind = kindAndName[1] as (typeof NAMED_SECTIONS)[number];
      const sectionName = kindAndName[2] ?? '';
      if (!POOL_NAME.test(sectionName)) {
        problems.add(
          name,
          undefined,
          `"${sectionName}" is not a ${kind} name (letters, digits, "-" and "_")`,
        );
      } else if (kind === 'pool' && (sectionName === 'http' || sectionName === 'websocket')) {
        problems.add(name, undefined, `the pool "${sectionName}" is the [${sectionName}] section`);
      } else {
        const values = readSection(kind, entries as Record<string, unknown>, env, problems, name);
        named[kind].set(sectionName, values);
      }
    } else if ((SECTIONS as readonly string[]).includes(name)) {
      const section = name as SectionName;
      sections.set(
        section,
        readSection(section, entries as Record<string, unknown>, env, problems),
      );
    } else {
      const known = [...SECTIONS, 'pool:NAME', 'route:NAME'];
      problems.add(name, undefined, `unknown section${didYouMean(name, known)}`);
    }
  }
  const frontend = readFrontend(sections.get('frontend'), problems, tlsFiles);
  const httpValues = sections.get('http');
  const websocketValues = sections.get('websocket');
  const http = httpValues && readPool('http', 'http', httpValues, problems, readCertificates);
  const websocket =
    websocketValues &&
    readPool('websocket', 'websocket', websocketValues, problems, readCertificates);
  const pools: Record<string, PoolConfig> = {};
  for (const [name, values] of named.pool) {
    pools[name] = readPool(
      'http',
      name,
      values,
      problems,
      readCertificates,
      'pool',
      `pool:${name}`,
    );
  }
  // Without [http] and [websocket] only routes reach a pool; what no route takes gets 404.
  if (!httpValues && !websocketValues && named.route.size === 0) {
    problems.add(
      undefined,
      undefined,
      'no [http], [websocket] or [route:NAME] section: there is nothing to proxy to',
    );
  }
  const poolNames = new Set([
    ...(httpValues ? ['http'] : []),
    ...(websocketValues ? ['websocket'] : []),
    ...Object.keys(pools),
  ]);
  const routeValues = new Map(
    [...named.route].map(([name, values]) => [name, { values: values.pool, given: values.given }]),
  );
  const routes = readRoutes(routeValues, poolNames, (section, key, message) =>
    problems.add(section, key, message),
  );
  if (problems.items.length > 0 || !frontend) {
    return { ok: false, problems: problems.items };
  }
  const hooks = readHooks(sections.get('hooks')?.pool ?? new Map(), file);
  const admin = readAdmin(sections.get('admin')?.pool ?? new Map());
  const config: Config = { file, frontend, http, websocket, pools, routes, hooks, admin };
  return { ok: true, config: deepFreeze(config) };
}
