import { isIP } from 'node:net';
import {
  connect,
  createSecureContext,
  rootCertificates,
  type ConnectionOptions,
  type SecureContext,
  type TLSSocket,
} from 'node:tls';
import type { BackendTls } from '../config';

/**
 * One secure context per `tls_ca` setting: the system store plus the file's certificates, built
 * once (parsing the store for every connection would cost more than the handshake).
 */
const contexts = new WeakMap<BackendTls, SecureContext>();

function secureContextOf(tls: BackendTls): SecureContext | undefined {
  if (tls.ca === undefined) return undefined;
  let context = contexts.get(tls);
  if (!context) {
    context = createSecureContext({ ca: [...rootCertificates, ...tls.ca] });
    contexts.set(tls, context);
  }
  return context;
}

/** The SNI name: `tls_servername`, else the host when it is a name (none for an IP address). */
export function serverNameFor(host: string, tls: BackendTls): string | undefined {
  return tls.servername ?? (isIP(host) === 0 ? host : undefined);
}

/**
 * The options of a TLS connection to a backend, for `tls.connect` or an undici connector:
 * certificates verified against the system store and `tls_ca`, for `tls_servername` or the
 * host, unless `tls_verify=false`. HTTP/1.1 only.
 */
export function backendTlsOptions(tls: BackendTls): ConnectionOptions {
  const secureContext = secureContextOf(tls);
  return {
    ...(secureContext ? { secureContext } : {}),
    ...(tls.servername === undefined ? {} : { servername: tls.servername }),
    rejectUnauthorized: tls.verify,
    ALPNProtocols: ['http/1.1'],
  };
}

/** A TLS connection to `host:port`; `'secureConnect'` says it is ready. */
export function connectTls(host: string, port: number, tls: BackendTls): TLSSocket {
  const servername = serverNameFor(host, tls);
  return connect({
    ...backendTlsOptions(tls),
    host,
    port,
    ...(servername === undefined ? {} : { servername }),
  });
}
