import { performance } from 'node:perf_hooks';
import { Observable, defer, of } from '../rx';
import { backendTlsOptions } from './backendTls';
import { newAgent, request, type Agent } from './undiciCore';
import { sameValue, type BackendTls, type PoolConfig, type ServerConfig } from '../config';
import { interpretProbe, probeFailure, type ProbeResult } from '../health/probeResult';
import type { Probe } from '../streams/activeHealth';
import type { ProbeKey, SharedProbes } from './sharedProbes';

/** Health responses are small; more than this is not read. */
const MAX_BODY_BYTES = 64 * 1024;

export interface HealthProber {
  readonly probe: Probe;
  close(): Promise<void>;
}

async function readSome(body: AsyncIterable<Buffer>): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= MAX_BODY_BYTES) break;
  }
  return Buffer.concat(chunks).subarray(0, MAX_BODY_BYTES).toString('utf8');
}

/**
 * `GET health_check_path` on a backend, answered as a ProbeResult. Probes have their own
 * connections, apart from the workers, so a saturated pool does not fail its health checks.
 * `settings` gives the pool as it is now: servers and path follow reloads.
 *
 * With `shared`, probes that are the same request as another prober's (same server address and
 * TLS settings, path, interval and timeout) are made once for both: see SharedProbes.
 */
export function createHealthProber(
  settings: () => PoolConfig,
  shared?: SharedProbes,
): HealthProber {
  const agentFor = probeAgent;
  const tlsOf = (pool: PoolConfig) => pool.servers.find((server) => server.tls)?.tls;
  let timeoutMs = settings().healthCheckTimeoutMs;
  let tls = tlsOf(settings());
  /** Made for the first probe: a pool without active checks loads no HTTP client for them. */
  let agent: Agent | undefined;
  /** The connect options are the agent's: a reloaded timeout or TLS setting gets a new agent. */
  const agentOf = (pool: PoolConfig): Agent => {
    const poolTls = tlsOf(pool);
    if (pool.healthCheckTimeoutMs !== timeoutMs || !sameValue(poolTls, tls)) {
      const previous = agent;
      timeoutMs = pool.healthCheckTimeoutMs;
      tls = poolTls;
      agent = agentFor(timeoutMs, tls);
      // Probes already running on the previous agent finish; then its connections close.
      previous?.close().catch(() => undefined);
    }
    agent ??= agentFor(timeoutMs, tls);
    return agent;
  };
  /** One probe request on this prober's connections; resolves with the result, never rejects. */
  const requestProbe = (
    current: PoolConfig,
    server: ServerConfig,
    signal: AbortSignal,
  ): Promise<ProbeResult> =>
    probeRequest(
      agentOf(current),
      {
        origin: originOf(server),
        path: current.healthCheckPath,
        timeoutMs: current.healthCheckTimeoutMs,
      },
      server.name,
      signal,
    );
  /** Whom the shared probes know this prober as. */
  const user = {};
  let closed = false;
  const probe: Probe = (backend) => defer(() => probeNow(backend));
  const probeNow = (backend: string): Observable<ProbeResult> => {
    const current = settings();
    const server = current.servers.find((candidate) => candidate.name === backend);
    if (server === undefined) return of(probeFailure(backend, 'unknown backend'));
    if (closed) return of(probeFailure(backend, 'health checks stopped'));
    if (shared) {
      const key: ProbeKey = {
        origin: originOf(server),
        tls: server.tls,
        path: current.healthCheckPath,
        intervalMs: current.healthCheckIntervalMs,
        timeoutMs: current.healthCheckTimeoutMs,
      };
      return shared.probe(user, key, backend, (signal) => requestProbe(current, server, signal));
    }
    return new Observable<ProbeResult>((subscriber) => {
      const abort = new AbortController();
      requestProbe(current, server, abort.signal).then(
        (result) => {
          subscriber.next(result);
          subscriber.complete();
        },
        () => undefined,
      );
      return () => abort.abort();
    });
  };
  return {
    probe,
    close: () => {
      closed = true;
      shared?.release(user);
      // A request another prober joined keeps running: undici's close() lets requests already
      // given to the agent finish before it closes their connections.
      return agent?.close() ?? Promise.resolve();
    },
  };
}

/**
 * The connections of health probes with one timeout and one set of TLS settings. Every TLS
 * server of a pool shares the pool's tls_* settings: one agent serves them all.
 */
export function probeAgent(timeoutMs: number, tls: BackendTls | undefined): Agent {
  return newAgent({
    connections: 1,
    connect: { timeout: timeoutMs, ...(tls ? backendTlsOptions(tls) : {}) },
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
}

/** One probe request on `agent`'s connections; resolves with the result, never rejects. */
export function probeRequest(
  agent: Agent,
  target: Pick<ProbeKey, 'origin' | 'path' | 'timeoutMs'>,
  backend: string,
  signal: AbortSignal,
): Promise<ProbeResult> {
  const startedAt = performance.now();
  return request(agent, {
    origin: target.origin,
    path: target.path,
    method: 'GET',
    signal,
    headers: { 'user-agent': 'rxproxy-health-check' },
    headersTimeout: target.timeoutMs,
    bodyTimeout: target.timeoutMs,
  })
    .then(async (response) => {
      const body = await readSome(response.body);
      if (!response.body.destroyed) response.body.destroy();
      return interpretProbe(backend, response.statusCode, body);
    })
    .catch((error: NodeJS.ErrnoException) =>
      probeFailure(backend, error.code ? `${error.code}: ${error.message}` : error.message),
    )
    .then((result) => {
      const latencyMs = Math.round((performance.now() - startedAt) * 1000) / 1000;
      return { ...result, latencyMs };
    });
}

function originOf(server: ServerConfig): string {
  return `${server.tls ? 'https' : 'http'}://${server.address}`;
}
