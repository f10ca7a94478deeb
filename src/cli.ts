#!/usr/bin/env node
import cluster from 'node:cluster';
import { parseArgs } from 'node:util';
import { concatMap, config as rxjsConfig, filter, firstValueFrom } from './rx';
import { loadConfigFile, parseConfigText } from './adapters/configFile';
import type { DemoBackends } from './adapters/demoBackends';
import { loadHookModule } from './adapters/hookModule';
import { createLogger, writeLogRecords, type Logger } from './adapters/logger';
import { readCpuFacts } from './adapters/cpuQuota';
import { workerCount } from './cluster/workerCount';
import type * as ClusterModule from './composeCluster';
import type { WorkerRole } from './composeCluster';
import { packageVersion } from './adapters/packageInfo';
import { fromSignals } from './adapters/processSignals';
import { selfCheck } from './adapters/selfCheck';
import { LOG_LEVELS, formatProblem, type Config, type LogLevel } from './config';
import { demoConfigText, demoInstructions } from './demo';
import type { ProxyHooks } from './hooks/types';
import { appliedConfigs, cliReloadTriggers, ReadDigest, readForReload } from './composeReloads';
import { createProxy } from './proxy';
import { logRecords } from './streams/logRecords';
import { describeConfig } from './summary';

export const DEFAULT_CONFIG_PATH = '/prod/reverse-proxy-config.ini';

const USAGE = `Usage: rxproxy [--config FILE] [--check] [--healthcheck] [--demo] [--version] [--help]

  --config FILE  configuration file (default: $RXPROXY_CONFIG, else ${DEFAULT_CONFIG_PATH})
  --check        validate the configuration, print a summary and exit (1 if it has problems)
  --healthcheck  check the running proxy of this configuration: GET /livez on its admin
                 listener, or a connection to its front door without one; exit 0 or 1
  --demo         start three demo backends on loopback and the proxy in front of them
                 on 127.0.0.1:8080 (PORT overrides)
  --version      print the version
  --help         print this help

Environment: RXPROXY_CONFIG (config path), LOG_LEVEL (overrides [frontend] log_level),
PORT and ADMIN_PORT (demo: proxy and admin ports, default 8080 and 9901).
`;

interface Io {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
}

interface Loaded {
  readonly config: Config;
  readonly demo?: DemoBackends;
  /** The hooks of `[hooks] module`, when the file names one. */
  readonly moduleHooks?: ProxyHooks;
  /** The file's digest just before it was read. */
  readonly digest?: ReadDigest;
}

/** Loads the hook module a valid config names; a failure is one more configuration problem. */
async function withHookModule(loaded: Loaded, io: Io): Promise<Loaded | number> {
  const path = loaded.config.hooks.module;
  if (path === undefined) return loaded;
  try {
    return { ...loaded, moduleHooks: await loadHookModule(path) };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    io.err(`${formatProblem({ file: loaded.config.file, section: 'hooks', key: 'module', message })}
`);
    await loaded.demo?.close();
    return 1;
  }
}

async function loadConfig(configPath: string, demo: boolean, io: Io): Promise<Loaded | number> {
  if (demo) {
    // Loaded for the demo only: its WebSocket server brings `ws`, which the proxy does not use.
    const { startDemoBackends } = await import('./adapters/demoBackends');
    const backends = await startDemoBackends();
    const result = parseConfigText(
      demoConfigText(backends.backends, io.env.PORT ?? '8080', io.env.ADMIN_PORT ?? '9901'),
      'demo',
      io.env,
    );
    if (result.ok) return { config: result.config, demo: backends };
    await backends.close();
    io.err(`${result.problems.map(formatProblem).join('\n')}\n`);
    return 1;
  }
  const digest = new ReadDigest(configPath);
  digest.takeBeforeRead();
  const result = loadConfigFile(configPath, io.env);
  if (result.ok) return { config: result.config, digest };
  if ('notFound' in result) {
    io.err(`rxproxy: config file ${configPath} not found; pass --config FILE, or try --demo\n`);
  } else {
    io.err(`${result.problems.map(formatProblem).join('\n')}\n`);
  }
  return 1;
}

const LISTEN_ERRORS: Readonly<Record<string, string>> = {
  EADDRINUSE: 'address already in use',
  EACCES: 'permission denied',
  EADDRNOTAVAIL: 'address not available',
  ENOTFOUND: 'host not found',
};

/** One plain line for an operator: where the proxy tried to listen, and why it could not. */
export function describeListenError(config: Config, error: unknown): string {
  const listener = (error as { listener?: unknown } | undefined)?.listener;
  const admin = listener === 'admin';
  const redirect = listener === 'redirect';
  const { host, port } = admin
    ? { ...config.admin, port: config.admin.port ?? 0 }
    : redirect
      ? { host: config.frontend.host, port: config.frontend.redirectHttpPort ?? 0 }
      : config.frontend;
  const where = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const reason =
    (code === undefined ? undefined : LISTEN_ERRORS[code]) ??
    (error instanceof Error ? error.message : String(error));
  const prefix = admin ? 'admin listener: ' : redirect ? 'redirect listener: ' : '';
  return `${prefix}cannot listen on ${where}: ${reason}`;
}

function logLevelFor(config: Config, env: NodeJS.ProcessEnv): string {
  return env.LOG_LEVEL ?? config.frontend.logLevel;
}

/** The logger of `config`, or an exit code when LOG_LEVEL names no level. */
async function loggerFor(loaded: Loaded, io: Io): Promise<Logger | number> {
  const level = logLevelFor(loaded.config, io.env);
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    io.err(`rxproxy: LOG_LEVEL "${level}" is not one of ${LOG_LEVELS.join(', ')}\n`);
    await loaded.demo?.close();
    return 1;
  }
  const logger = createLogger(level as LogLevel);
  rxjsConfig.onUnhandledError = (error: unknown) => logger.error({ err: error }, 'unhandled error');
  return logger;
}

async function serve(loaded: Loaded, io: Io, role?: WorkerRole): Promise<number> {
  const { demo, digest } = loaded;
  const config = role ? role.share(loaded.config) : loaded.config;
  const base = await loggerFor(loaded, io);
  if (typeof base === 'number') return base;
  // A worker's lines say which process wrote them; its level follows reloads like the primary's.
  const logger = role ? base.child({ worker: process.pid }) : base;
  const readAgain = () => readForReload(config.file, io.env, digest);
  const proxy = createProxy(config, {
    ...(loaded.moduleHooks ? { moduleHooks: loaded.moduleHooks } : {}),
    // The demo's configuration is no file: it does not reload.
    ...(demo
      ? {}
      : {
          loadConfig: role ? () => readAgain().then((next) => role.shareLoaded(next)) : readAgain,
        }),
    ...(role ? { cluster: role.cluster } : {}),
  });
  const applied$ = appliedConfigs(proxy);
  // A reload's log_level takes effect before its own log line (LOG_LEVEL, when set, still wins).
  const levels = applied$.subscribe((applied) => {
    if (io.env.LOG_LEVEL === undefined) logger.level = applied.frontend.logLevel;
  });
  const logging = writeLogRecords(
    logRecords(
      role ? proxy.events$.pipe(filter((event) => role.logs(event))) : proxy.events$,
      (recordLevel) => logger.isLevelEnabled(recordLevel),
    ),
    logger,
  );
  // Reload triggers are heard from before the start, so that no change of the file between its
  // reading and the start is missed and a SIGHUP never ends the process; they wait for the start.
  let markStarted: () => void = () => undefined;
  const started = new Promise<void>((resolve) => (markStarted = resolve));
  // A worker reloads when its primary says so, and stops when it sends SIGTERM: a SIGHUP, or
  // the SIGINT a terminal's Ctrl-C sends the whole process group, is the primary's to handle.
  const triggers$ = role ? role.reloads$ : cliReloadTriggers(config.file, applied$, !demo, digest);
  const hangups = role ? fromSignals(['SIGHUP', 'SIGINT']).subscribe() : undefined;
  const stopSignals: NodeJS.Signals[] = role ? ['SIGTERM'] : ['SIGTERM', 'SIGINT'];
  const status = role?.attach(proxy);
  const reloads = triggers$
    .pipe(
      concatMap(async (trigger) => {
        await started;
        return proxy.reloadFile(trigger);
      }),
    )
    .subscribe();
  try {
    const address = await proxy.start();
    markStarted();
    if (demo) {
      io.out(`${demoInstructions(address.port, demo.backends, proxy.adminAddress?.port)}\n`);
    }
  } catch (error) {
    reloads.unsubscribe();
    io.err(`${describeListenError(config, error)}\n`);
    await proxy.stop();
    await demo?.close();
    logging.unsubscribe();
    logger.flush();
    hangups?.unsubscribe();
    status?.unsubscribe();
    role?.close();
    return 1;
  }
  const signal = await firstValueFrom(fromSignals(stopSignals));
  reloads.unsubscribe();
  levels.unsubscribe();
  logger.info({ signal }, 'shutting down');
  const forced = fromSignals(stopSignals).subscribe((again) => {
    logger.warn({ signal: again }, 'second signal: exiting without waiting');
    logger.flush();
    process.exit(1);
  });
  await proxy.stop();
  await demo?.close();
  forced.unsubscribe();
  logging.unsubscribe();
  logger.flush();
  hangups?.unsubscribe();
  status?.unsubscribe();
  role?.close();
  return 0;
}

export async function main(argv: readonly string[], io: Io): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        config: { type: 'string' },
        check: { type: 'boolean' },
        healthcheck: { type: 'boolean' },
        demo: { type: 'boolean' },
        version: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    io.err(`rxproxy: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    io.out(USAGE);
    return 0;
  }
  if (values.version) {
    io.out(`${packageVersion()}\n`);
    return 0;
  }
  const configPath = values.config ?? io.env.RXPROXY_CONFIG ?? DEFAULT_CONFIG_PATH;
  if (values.healthcheck) {
    const result = loadConfigFile(configPath, io.env);
    if (!result.ok) {
      io.err(`rxproxy: cannot read ${configPath} for the health check\n`);
      return 1;
    }
    const checked = await selfCheck(result.config);
    (checked.ok ? io.out : io.err)(`${checked.detail}\n`);
    return checked.ok ? 0 : 1;
  }
  const parsed = await loadConfig(configPath, values.demo ?? false, io);
  if (typeof parsed === 'number') return parsed;
  const loaded = await withHookModule(parsed, io);
  if (typeof loaded === 'number') return loaded;
  if (values.check) {
    io.out(`${describeConfig(loaded.config)}\n`);
    await loaded.demo?.close();
    return 0;
  }
  const role = cluster.isWorker ? clusterModule().workerRole(io.env) : undefined;
  if (role) return serve(loaded, io, role);
  const count = loaded.demo ? 1 : workerCount(loaded.config.frontend.workers, readCpuFacts());
  if (count <= 1) return serve(loaded, io);
  const logger = await loggerFor(loaded, io);
  if (typeof logger === 'number') return logger;
  try {
    return await clusterModule().runPrimary({
      config: loaded.config,
      count,
      logger,
      env: io.env,
      ...(loaded.digest ? { digest: loaded.digest } : {}),
    });
  } catch (error) {
    io.err(`${describeListenError(loaded.config, error)}\n`);
    return 1;
  } finally {
    logger.flush();
  }
}

/**
 * The cluster's composition, loaded by a cluster's primary and workers only: it brings the
 * cluster's admin listener with its dashboard, which a single process without `[admin]` does
 * not use (docs/performance.md, Memory).
 */
function clusterModule(): typeof ClusterModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('./composeCluster') as typeof ClusterModule;
}

/** A cluster worker that ends (or never started) lets go of its IPC channel, so that it exits. */
function leaveCluster(): void {
  if (cluster.isWorker && process.connected) cluster.worker?.disconnect();
}

if (require.main === module) {
  main(process.argv.slice(2), {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    env: process.env,
  }).then(
    (code) => {
      process.exitCode = code;
      leaveCluster();
    },
    (error: unknown) => {
      process.stderr.write(`rxproxy: ${String((error as Error)?.stack ?? error)}\n`);
      process.exitCode = 1;
      leaveCluster();
    },
  );
}
