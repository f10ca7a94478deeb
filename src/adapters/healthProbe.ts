import { performance } from 'node:perf_hooks';
import { Observable } from 'rxjs';
import { backendTlsOptions } from './backendTls';
import { Agent, request } from './undiciCore';
import { sameValue, type BackendTls, type PoolConfig } from '../config';
import { interpretProbe, probeFailure, type ProbeResult } from '../health/probeResult';
import type { Probe } from '../streams/activeHealth';

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
 */
export function createHealthProber(settings: () => PoolConfig): HealthProber {
  const agentFor = (timeoutMs: number, tls: BackendTls | undefined) =>
    new Agent({
      connections: 1,
      // Every TLS server of a pool shares the pool's tls_* settings: one agent serves them all.
      connect: { timeout: timeoutMs, ...(tls ? backendTlsOptions(tls) : {}) },
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
  const tlsOf = (pool: PoolConfig) => pool.servers.find((server) => server.tls)?.tls;
  let timeoutMs = settings().healthCheckTimeoutMs;
  let tls = tlsOf(settings());
  let agent = agentFor(timeoutMs, tls);
  /** The connect options are the agent's: a reloaded timeout or TLS setting gets a new agent. */
  const agentOf = (pool: PoolConfig): Agent => {
    const poolTls = tlsOf(pool);
    if (pool.healthCheckTimeoutMs !== timeoutMs || !sameValue(poolTls, tls)) {
      const previous = agent;
      timeoutMs = pool.healthCheckTimeoutMs;
      tls = poolTls;
      agent = agentFor(timeoutMs, tls);
      // Probes already running on the previous agent finish; then its connections close.
      previous.close().catch(() => undefined);
    }
    return agent;
  };
  const probe: Probe = (backend) =>
    new Observable<ProbeResult>((subscriber) => {
      const abort = new AbortController();
      const current = settings();
      const server = current.servers.find((candidate) => candidate.name === backend);
      if (server === undefined) {
        subscriber.next(probeFailure(backend, 'unknown backend'));
        subscriber.complete();
        return undefined;
      }
      const startedAt = performance.now();
      request(agentOf(current), {
        origin: `${server.tls ? 'https' : 'http'}://${server.address}`,
        path: current.healthCheckPath,
        method: 'GET',
        signal: abort.signal,
        headers: { 'user-agent': 'rxproxy-health-check' },
        headersTimeout: current.healthCheckTimeoutMs,
        bodyTimeout: current.healthCheckTimeoutMs,
      })
        .then(async (response) => {
          const body = await readSome(response.body);
          if (!response.body.destroyed) response.body.destroy();
          return interpretProbe(backend, response.statusCode, body);
        })
        .catch((error: NodeJS.ErrnoException) =>
          probeFailure(backend, error.code ? `${error.code}: ${error.message}` : error.message),
        )
        .then(
          (result) => {
            const latencyMs = Math.round((performance.now() - startedAt) * 1000) / 1000;
            subscriber.next({ ...result, latencyMs });
            subscriber.complete();
          },
          () => undefined,
        );
      return () => abort.abort();
    });
  return { probe, close: () => agent.close() };
}
