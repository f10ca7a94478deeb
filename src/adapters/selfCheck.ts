import { request } from 'node:http';
import { connect } from 'node:net';
import type { Config } from '../config';

export interface SelfCheckResult {
  readonly ok: boolean;
  readonly detail: string;
}

/** A wildcard listen address is reached on loopback. */
function reachable(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::' || host === '[::]') return '::1';
  return host;
}

function getLivez(host: string, port: number, timeoutMs: number): Promise<SelfCheckResult> {
  return new Promise((resolve) => {
    const req = request(
      { host: reachable(host), port, path: '/livez', timeout: timeoutMs },
      (res) => {
        res.resume();
        const ok = res.statusCode === 200;
        resolve({ ok, detail: `admin /livez answered ${res.statusCode ?? 0}` });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (error) => resolve({ ok: false, detail: `admin /livez: ${error.message}` }));
    req.end();
  });
}

function connectTo(host: string, port: number, timeoutMs: number): Promise<SelfCheckResult> {
  return new Promise((resolve) => {
    const socket = connect({ host: reachable(host), port, timeout: timeoutMs }, () => {
      socket.destroy();
      resolve({ ok: true, detail: `front door accepts connections on port ${port}` });
    });
    socket.on('timeout', () => socket.destroy(new Error(`no connection within ${timeoutMs} ms`)));
    socket.on('error', (error) => resolve({ ok: false, detail: `front door: ${error.message}` }));
  });
}

/**
 * The container's health check: `/livez` on the admin listener when there is one, else a TCP
 * connection to the front door.
 */
export function selfCheck(config: Config, timeoutMs = 3000): Promise<SelfCheckResult> {
  const { admin, frontend } = config;
  return admin.port !== undefined
    ? getLivez(admin.host, admin.port, timeoutMs)
    : connectTo(frontend.host, frontend.port, timeoutMs);
}
