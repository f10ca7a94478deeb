import { resolveFrom } from './hookValues';
import { defaultOf } from './schema';
import type { FrontendConfig, FrontendTlsFiles, ServerCertificate, TlsVersion } from './types';

type AddProblem = (key: string, message: string) => void;

export type FrontendTlsSettings = Pick<
  FrontendConfig,
  | 'tlsCert'
  | 'tlsKey'
  | 'tlsCertDir'
  | 'tlsMinVersion'
  | 'certificates'
  | 'redirectHttpPort'
  | 'http2'
  | 'h2MaxConcurrentStreams'
>;

/** Without readers of its own, a config cannot name certificate files. */
export const NO_TLS_FILES: FrontendTlsFiles = {
  readKeyPair: (certFile) => ({
    ok: false,
    errors: [`${certFile}: files are not read here (load the configuration from a file)`],
  }),
  readFolder: (dir) => ({
    ok: false,
    errors: [`${dir}: files are not read here (load the configuration from a file)`],
  }),
};

/**
 * The front door's certificates: `tls_cert` + `tls_key` first (the default), then the pairs of
 * `tls_cert_dir` by name. Every unreadable file, mismatched key or expired certificate is a
 * problem of the key that named it.
 */
export function readFrontendTls(
  written: ReadonlyMap<string, unknown>,
  configFile: string,
  files: FrontendTlsFiles,
  add: AddProblem,
): FrontendTlsSettings {
  const setting = <T>(key: string): T =>
    (written.get(key) as T | undefined) ?? defaultOf<T>('frontend', 'frontend', key);
  const path = (key: string) => {
    const value = written.get(key) as string | undefined;
    return value === undefined ? undefined : resolveFrom(configFile, value);
  };
  const tlsCert = path('tls_cert');
  const tlsKey = path('tls_key');
  const tlsCertDir = path('tls_cert_dir');
  const redirectHttpPort = written.get('redirect_http_port') as number | undefined;
  const certificates: ServerCertificate[] = [];
  if (tlsCert !== undefined && tlsKey === undefined) add('tls_key', 'is required with tls_cert');
  if (tlsKey !== undefined && tlsCert === undefined) add('tls_cert', 'is required with tls_key');
  if (tlsCert !== undefined && tlsKey !== undefined) {
    const pair = files.readKeyPair(tlsCert, tlsKey);
    if (pair.ok) certificates.push({ name: 'tls_cert', ...pair.value });
    else for (const error of pair.errors) add('tls_cert', error);
  }
  if (tlsCertDir !== undefined) {
    const folder = files.readFolder(tlsCertDir);
    if (!folder.ok) for (const error of folder.errors) add('tls_cert_dir', error);
    for (const entry of folder.ok ? folder.value : []) {
      const pair = files.readKeyPair(entry.certFile, entry.keyFile);
      if (pair.ok) certificates.push({ name: entry.name, ...pair.value });
      else for (const error of pair.errors) add('tls_cert_dir', error);
    }
  }
  const tls = tlsCert !== undefined || tlsKey !== undefined || tlsCertDir !== undefined;
  if (redirectHttpPort !== undefined && !tls) {
    add(
      'redirect_http_port',
      'needs TLS on the front door (tls_cert and tls_key, or tls_cert_dir)',
    );
  }
  for (const key of ['tls_min_version', 'http2', 'h2_max_concurrent_streams']) {
    if (written.has(key) && !tls) {
      add(key, 'needs TLS on the front door (tls_cert and tls_key, or tls_cert_dir)');
    }
  }
  return {
    tlsCert,
    tlsKey,
    tlsCertDir,
    tlsMinVersion: setting<TlsVersion>('tls_min_version'),
    certificates,
    redirectHttpPort,
    http2: setting<boolean>('http2'),
    h2MaxConcurrentStreams: setting<number>('h2_max_concurrent_streams'),
  };
}
