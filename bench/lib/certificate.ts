// A self-signed certificate for 127.0.0.1, made with the openssl CLI for the TLS rounds: every
// target serves the same certificate (ECDSA P-256, the common choice for HTTPS today).

import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchCertificate } from './targets';
import { which } from './tools';

/** The certificate's files in `dir`, or why there are none. */
export function makeBenchCertificate(dir: string): BenchCertificate | { unavailable: string } {
  const openssl = which('openssl');
  if (!openssl) return { unavailable: 'openssl is not installed' };
  const cert = join(dir, 'bench-cert.pem');
  const key = join(dir, 'bench-key.pem');
  const combined = join(dir, 'bench-combined.pem');
  try {
    execFileSync(
      openssl,
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '2',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
      ],
      { stdio: 'ignore' },
    );
  } catch (error) {
    return { unavailable: `openssl could not make a certificate: ${(error as Error).message}` };
  }
  writeFileSync(combined, readFileSync(cert, 'utf8') + readFileSync(key, 'utf8'));
  return { cert, key, combined };
}
