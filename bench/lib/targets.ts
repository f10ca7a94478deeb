// The proxies under test. Each runs as its own process (tree) on 127.0.0.1, round-robin over
// the same backends, with keep-alive upstream connections.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { start, type Child } from './children';
import { hardOpenFilesLimit, peerModulePath, versionLine, which } from './tools';

export interface TargetContext {
  /** Port to listen on (127.0.0.1). */
  port: number;
  /** Backends as host:port. */
  backends: string[];
  /** Scratch folder for configs and logs. */
  dir: string;
  /** Repository root. */
  root: string;
  /** Folder of the compiled harness. */
  jsDir: string;
  /**
   * Listen with TLS using this certificate, offering HTTP/2 as well by ALPN where the target
   * has it (`http2`); plain HTTP when absent.
   */
  tls?: BenchCertificate;
}

/** One self-signed certificate for 127.0.0.1 shared by every target: PEM files. */
export interface BenchCertificate {
  cert: string;
  key: string;
  /** Certificate and key in one file, as HAProxy takes them. */
  combined: string;
}

export interface Target {
  name: string;
  /** Proxies WebSocket upgrades. */
  websocket: boolean;
  /** Serves HTTPS when started with `tls` (the benchmark's TLS rounds). */
  tls: boolean;
  /** Also serves HTTP/2 on that TLS port (ALPN h2): the HTTP/2 rounds. */
  http2: boolean;
  /** Undefined when it can run on this machine, else why it cannot. */
  unavailable: (root: string) => string | undefined;
  version: (root: string) => string;
  start: (ctx: TargetContext) => Child;
}

function packageVersion(root: string, name: string): string {
  try {
    const file = peerModulePath(root, name, 'package.json');
    return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}

function rootVersion(root: string): string {
  try {
    return (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string })
      .version;
  } catch {
    return '?';
  }
}

function gitDescription(root: string): string {
  const run = (args: string[]): string =>
    spawnSync('git', args, { cwd: root, encoding: 'utf8' }).stdout?.trim() ?? '';
  const commit = run(['rev-parse', '--short', 'HEAD']);
  if (!commit) return '';
  const dirty = run(['status', '--porcelain', '--', 'src']) !== '';
  return dirty ? `${commit} + uncommitted changes in src/` : commit;
}

function nodeTarget(
  name: string,
  script: string,
  pkg: string,
  websocket: boolean,
  tls = false,
  /** More arguments for the script. */
  extraArgs: readonly string[] = [],
): Target {
  return {
    name,
    websocket,
    tls,
    http2: false,
    unavailable: (root) =>
      existsSync(peerModulePath(root, pkg)) ? undefined : `${pkg} is not installed`,
    version: (root) => `${pkg} ${packageVersion(root, pkg)}`,
    start: (ctx) =>
      start(
        name,
        process.execPath,
        [
          join(ctx.jsDir, 'servers', script),
          '--port',
          String(ctx.port),
          '--backends',
          ctx.backends.join(','),
          ...(ctx.tls ? ['--tls-cert', ctx.tls.cert, '--tls-key', ctx.tls.key] : []),
          ...extraArgs,
        ],
        join(ctx.dir, `${name}-${ctx.port}${ctx.tls ? '-tls' : ''}.log`),
        { cwd: ctx.root, jsonLines: true },
      ),
  };
}

/**
 * The node options the image's `CMD` starts the proxy with (`["node", ...options,
 * "dist/cli.js"]` in the Dockerfile of `root`), so the benchmark runs rxproxy as shipped; none
 * when there is no Dockerfile or its CMD runs something else.
 */
export function shippedNodeOptions(root: string): string[] {
  let text: string;
  try {
    text = readFileSync(join(root, 'Dockerfile'), 'utf8');
  } catch {
    return [];
  }
  const cmd = [...text.matchAll(/^CMD (\[.*\])$/gm)].at(-1)?.[1];
  if (cmd === undefined) return [];
  const words = JSON.parse(cmd) as unknown;
  if (!Array.isArray(words) || !words.every((word) => typeof word === 'string')) return [];
  const script = words.indexOf('dist/cli.js');
  return words[0] === 'node' && script > 0 ? words.slice(1, script) : [];
}

/**
 * rxproxy built in `build` (the checkout itself when undefined): another build, such as the
 * commit before a change, runs as a target of its own so both are measured in one run.
 */
export function rxproxyTarget(
  name: string,
  build?: string,
  extraIni: string | ((servers: string) => string) = '',
  /** Lines for `[frontend]`, such as `workers=2`. */
  frontendIni: readonly string[] = [],
): Target {
  const folder = (root: string) => build ?? root;
  return {
    name,
    websocket: true,
    tls: true,
    // The TLS front door offers h2 unless [frontend] http2=false.
    http2: true,
    unavailable: (root) =>
      existsSync(join(folder(root), 'dist', 'cli.js'))
        ? undefined
        : `${join(folder(root), 'dist', 'cli.js')} is missing (npm run build)`,
    version: (root) => {
      const git = gitDescription(folder(root));
      const options = shippedNodeOptions(folder(root));
      return `rxproxy ${rootVersion(folder(root))}${git ? ` (${git})` : ''}${
        options.length > 0 ? `, node ${options.join(' ')}` : ''
      }`;
    },
    start: (ctx) => {
      const servers = ctx.backends.map((hostPort, i) => `server${i + 1}=${hostPort}`).join('\n');
      const ini = [
        '[frontend]',
        'host=127.0.0.1',
        `port=${ctx.port}`,
        ...(ctx.tls ? [`tls_cert=${ctx.tls.cert}`, `tls_key=${ctx.tls.key}`] : []),
        'log_level=warn',
        ...frontendIni,
        '',
        '[http]',
        'algorithm=round-robin',
        servers,
        'max_workers=64',
        'min_workers=8',
        'buffer_size=256',
        'worker_timeout=60',
        '',
        '[websocket]',
        'algorithm=round-robin',
        servers,
        '',
        typeof extraIni === 'string' ? extraIni : extraIni(servers),
      ].join('\n');
      const file = join(ctx.dir, `${name}-${ctx.port}${ctx.tls ? '-tls' : ''}.ini`);
      writeFileSync(file, ini);
      const env = { ...process.env };
      delete env.LOG_LEVEL;
      return start(
        name,
        process.execPath,
        [
          ...shippedNodeOptions(folder(ctx.root)),
          join(folder(ctx.root), 'dist', 'cli.js'),
          '--config',
          file,
        ],
        join(ctx.dir, `${name}-${ctx.port}${ctx.tls ? '-tls' : ''}.log`),
        { cwd: ctx.root, env },
      );
    },
  };
}

export const rxproxy = rxproxyTarget('rxproxy');

/** rxproxy with the three built-in hooks on: what a request pays for hooks. */
export const rxproxyHooks = rxproxyTarget(
  'rxproxy-hooks',
  undefined,
  [
    '[hooks]',
    'request_id=true',
    'request_header1=X-Env: bench',
    // High enough never to refuse: the cost of the bucket, not its answers, is measured.
    'rate_limit=10000000/s',
    '',
  ].join('\n'),
);

/**
 * rxproxy with one route taking every request to `[http]`: what routing costs a request. The
 * route names the same pool as the default so that nothing but the routing differs (a second
 * pool would bring its own idle upstream connections into the comparison).
 */
export const rxproxyRoutes1 = rxproxyTarget(
  'rxproxy-routes1',
  undefined,
  ['[route:app]', 'pool=http', ''].join('\n'),
);

/**
 * rxproxy with 1 000 routes (exact hosts, wildcards and path prefixes that the benchmark's
 * requests do not take, and one that they do), all to `[http]`: what a large table costs.
 */
export const rxproxyRoutes1000 = rxproxyTarget('rxproxy-routes1000', undefined, () => {
  const routes: string[] = [];
  for (let i = 1; i < 1000; i++) {
    const host = i % 3 === 0 ? `h${i}.example.test` : i % 3 === 1 ? `*.w${i}.test` : '';
    routes.push(`[route:r${i}]`, ...(host ? [`host=${host}`] : []), `path_prefix=/p${i}`);
    routes.push('pool=http', '');
  }
  return [...routes, '[route:app]', 'pool=http', ''].join('\n');
});

/** A `[pool:app]` with the [http] pool's servers and settings. */
const appPool = (servers: string) =>
  ['[pool:app]', 'algorithm=round-robin', servers, 'max_workers=64', 'min_workers=8'].concat([
    'buffer_size=256',
    'worker_timeout=60',
    '',
  ]);

/** Every request routed to a second pool, `[pool:app]`, while `[http]` stays idle. */
export const rxproxyPool2 = rxproxyTarget('rxproxy-pool2', undefined, (servers) =>
  [...appPool(servers), '[route:app]', 'pool=app', ''].join('\n'),
);

/** A second pool that takes no traffic: what its idle upstream connections cost. */
export const rxproxyIdlePool = rxproxyTarget('rxproxy-idle-pool', undefined, (servers) =>
  appPool(servers).join('\n'),
);

/** rxproxy on two processes (`[frontend] workers=2`): CPU and memory count every process. */
export const rxproxyWorkers2 = rxproxyTarget('rxproxy-workers2', undefined, '', ['workers=2']);

/** rxproxy with the admin listener on: what metrics and status cost a request. */
export const rxproxyAdmin = rxproxyTarget(
  'rxproxy-admin',
  undefined,
  ['[admin]', 'host=127.0.0.1', 'port=0', ''].join('\n'),
);

export const nodeHttpProxy = nodeTarget(
  'node-http-proxy',
  'http-proxy-target.js',
  'http-proxy',
  true,
  true,
);
/** node:http + undici + a socket pipe for WebSockets, and nothing else: the floor of a Node proxy. */
export const nodeFloor: Target = {
  ...nodeTarget('node-floor', 'node-floor-target.js', 'undici', true),
  version: (root) =>
    `node:http + undici ${packageVersion(root, 'undici')}, sockets piped for WebSockets`,
};
/**
 * A proxy on raw sockets, forwarding only bodiless requests and Content-Length answers: with
 * `http`, node:http in front and raw sockets behind (what undici costs, against node-floor);
 * with `raw`, raw sockets both sides (what node:http costs too). Floors, not proxies.
 */
function rawFloor(name: string, front: 'http' | 'raw', description: string): Target {
  return {
    // Nothing to install: node:http and node:net only.
    ...nodeTarget(name, 'raw-floor-target.js', 'undici', false, false, ['--front', front]),
    unavailable: () => undefined,
    version: () => description,
  };
}
export const nodeRawUpstream = rawFloor(
  'node-raw-upstream',
  'http',
  'node:http in front, raw sockets to the backends (no undici)',
);
export const nodeRaw = rawFloor(
  'node-raw',
  'raw',
  'raw sockets both sides (no node:http, no undici)',
);

export const fastify: Target = {
  ...nodeTarget('fastify', 'fastify-target.js', 'fastify', false),
  version: (root) =>
    `fastify ${packageVersion(root, 'fastify')} + @fastify/reply-from ${packageVersion(root, '@fastify/reply-from')} (undici ${packageVersion(root, 'undici')})`,
  unavailable: (root) =>
    existsSync(peerModulePath(root, '@fastify', 'reply-from'))
      ? undefined
      : '@fastify/reply-from is not installed',
};

export const nginx: Target = {
  name: 'nginx',
  websocket: true,
  tls: true,
  http2: true,
  unavailable: () =>
    which('nginx') ? undefined : 'nginx is not installed (bench/install-peers.sh)',
  version: () =>
    versionLine(which('nginx') ?? 'nginx', ['-v'], /nginx\/(\S+)/).replace(/^/, 'nginx '),
  start: (ctx) => {
    const prefix = join(ctx.dir, `nginx-${ctx.port}`);
    // nginx 1.22 offers TLS 1.3 only when told to (the other targets do by default), and closes
    // a connection after keepalive_requests (1000) requests, HTTP/2 included, where h2load does
    // not reconnect.
    const tls = ctx.tls
      ? [
          '',
          `    ssl_certificate ${ctx.tls.cert};`,
          `    ssl_certificate_key ${ctx.tls.key};`,
          '    ssl_protocols TLSv1.2 TLSv1.3;',
          '    keepalive_requests 1000000000;',
        ].join('\n')
      : '';
    mkdirSync(join(prefix, 'logs'), { recursive: true });
    const upstreams = ctx.backends.map((hostPort) => `    server ${hostPort};`).join('\n');
    const conf = `daemon off;
master_process on;
worker_processes 1;
worker_rlimit_nofile ${Math.min(65_536, hardOpenFilesLimit())};
pid ${prefix}/nginx.pid;
error_log stderr warn;

events {
  worker_connections 16384;
}

http {
  access_log off;
  client_body_temp_path ${prefix}/client_body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;

  # "upgrade" for WebSocket handshakes; empty otherwise, which is proxy_set_header Connection ""
  # and lets plain requests reuse the upstream keep-alive connections.
  map $http_upgrade $connection_upgrade {
    default upgrade;
    '' '';
  }

  upstream backends {
${upstreams}
    keepalive 64;
    keepalive_timeout 60s;
  }

  server {
    listen 127.0.0.1:${ctx.port}${ctx.tls ? ' ssl http2' : ''};${tls}
    location / {
      proxy_pass http://backends;
      proxy_http_version 1.1;
      proxy_set_header Host $host;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      # Stream responses as the Node proxies do, rather than buffering them first.
      proxy_buffering off;
      proxy_read_timeout 3600s;
      proxy_send_timeout 3600s;
    }
  }
}
`;
    const file = join(prefix, 'nginx.conf');
    writeFileSync(file, conf);
    return start(
      'nginx',
      which('nginx') ?? 'nginx',
      ['-p', prefix, '-c', file, '-e', 'stderr'],
      join(ctx.dir, `nginx-${ctx.port}.log`),
    );
  },
};

export const haproxy: Target = {
  name: 'haproxy',
  websocket: true,
  tls: true,
  http2: true,
  unavailable: () =>
    which('haproxy') ? undefined : 'haproxy is not installed (bench/install-peers.sh)',
  version: () =>
    versionLine(which('haproxy') ?? 'haproxy', ['-v'], /version (\S+)/).replace(/^/, 'HAProxy '),
  start: (ctx) => {
    const servers = ctx.backends.map((hostPort, i) => `  server b${i + 1} ${hostPort}`).join('\n');
    // HAProxy refuses to start when maxconn needs more file descriptors (two per connection)
    // than the hard limit allows.
    const maxconn = Math.max(256, Math.min(10_000, Math.floor((hardOpenFilesLimit() - 200) / 2)));
    const cfg = `global
  nbthread 1
  maxconn ${maxconn}

defaults
  mode http
  option http-keep-alive
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  timeout http-keep-alive 60s
  timeout tunnel 1h

frontend bench
  bind 127.0.0.1:${ctx.port}${ctx.tls ? ` ssl crt ${ctx.tls.combined} alpn h2,http/1.1` : ''}
  default_backend backends

backend backends
  balance roundrobin
  http-reuse always
${servers}
`;
    const file = join(ctx.dir, `haproxy-${ctx.port}.cfg`);
    writeFileSync(file, cfg);
    return start(
      'haproxy',
      which('haproxy') ?? 'haproxy',
      ['-f', file, '-db'],
      join(ctx.dir, `haproxy-${ctx.port}.log`),
    );
  },
};

export const allTargets: Target[] = [
  rxproxy,
  rxproxyAdmin,
  nodeFloor,
  nodeHttpProxy,
  fastify,
  nginx,
  haproxy,
];
/** Measured only when asked for with --targets. */
export const optionalTargets: Target[] = [
  rxproxyHooks,
  rxproxyRoutes1,
  rxproxyRoutes1000,
  rxproxyWorkers2,
  rxproxyPool2,
  rxproxyIdlePool,
  nodeRawUpstream,
  nodeRaw,
];
export const quickTargets: Target[] = [rxproxy, nodeHttpProxy, fastify];
