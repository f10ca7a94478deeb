import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { CertificateFolderReader, CertificateReader, KeyPairReader } from '../config';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;
const NO_PEM_CERTIFICATE = 'holds no PEM certificate (-----BEGIN CERTIFICATE-----)';

function readText(path: string, errors: string[]): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    errors.push(`cannot read ${path}: ${(error as Error).message}`);
    return undefined;
  }
}

function parseCertificate(path: string, text: string, errors: string[]) {
  const pem = text.match(PEM_CERTIFICATE)?.[0];
  if (pem === undefined) {
    errors.push(`${path} ${NO_PEM_CERTIFICATE}`);
    return undefined;
  }
  try {
    return new X509Certificate(pem);
  } catch (error) {
    errors.push(`${path}: the certificate is not valid: ${(error as Error).message}`);
    return undefined;
  }
}

function parseKey(path: string, text: string, errors: string[]): KeyObject | undefined {
  try {
    return createPrivateKey(text);
  } catch (error) {
    errors.push(`${path}: not a private key: ${(error as Error).message}`);
    return undefined;
  }
}

/** `DNS:a.example.com, IP Address:127.0.0.1` → `['a.example.com', '127.0.0.1']`. */
function namesOf(certificate: X509Certificate): string[] {
  return (certificate.subjectAltName ?? '')
    .split(', ')
    .map((entry) => /^(?:DNS|IP Address):(.+)$/.exec(entry)?.[1]?.toLowerCase())
    .filter((name): name is string => name !== undefined);
}

export interface KeyPairContent {
  readonly cert: string;
  readonly key: string;
}

/**
 * A certificate (its chain after it) and its private key: both readable, the key the
 * certificate's, the certificate not expired at `now`. Gives the PEM text with the checks.
 */
export function loadKeyPair(
  certFile: string,
  keyFile: string,
  now = Date.now(),
):
  | { ok: true; content: KeyPairContent; hostnames: string[]; validTo: string }
  | { ok: false; errors: string[] } {
  const errors: string[] = [];
  const cert = readText(certFile, errors);
  const key = readText(keyFile, errors);
  const certificate = cert === undefined ? undefined : parseCertificate(certFile, cert, errors);
  const privateKey = key === undefined ? undefined : parseKey(keyFile, key, errors);
  if (certificate && privateKey && !certificate.checkPrivateKey(privateKey)) {
    errors.push(`${keyFile} is not the key of the certificate in ${certFile}`);
  }
  const validTo = certificate ? new Date(certificate.validTo).toISOString() : '';
  if (certificate && Date.parse(validTo) <= now) {
    errors.push(`${certFile}: the certificate expired on ${validTo}`);
  }
  if (errors.length > 0 || cert === undefined || key === undefined || !certificate) {
    return { ok: false, errors };
  }
  return { ok: true, content: { cert, key }, hostnames: namesOf(certificate), validTo };
}

export const readKeyPair: KeyPairReader = (certFile, keyFile) => {
  const loaded = loadKeyPair(certFile, keyFile);
  if (!loaded.ok) return loaded;
  return {
    ok: true,
    value: { certFile, keyFile, hostnames: loaded.hostnames, validTo: loaded.validTo },
  };
};

/** `NAME.crt` + `NAME.key` pairs, sorted by name; a certificate without its key is a problem. */
export const readCertificateFolder: CertificateFolderReader = (dir) => {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch (error) {
    return { ok: false, errors: [`cannot read ${dir}: ${(error as Error).message}`] };
  }
  const names = entries
    .filter((entry) => entry.endsWith('.crt'))
    .map((entry) => entry.slice(0, -'.crt'.length))
    .sort();
  const missing = names.filter((name) => !entries.includes(`${name}.key`));
  if (missing.length > 0) {
    return {
      ok: false,
      errors: missing.map((name) => `${join(dir, `${name}.crt`)} has no ${name}.key beside it`),
    };
  }
  if (names.length === 0) {
    return { ok: false, errors: [`${dir} holds no NAME.crt + NAME.key pair`] };
  }
  return {
    ok: true,
    value: names.map((name) => ({
      name,
      certFile: join(dir, `${name}.crt`),
      keyFile: join(dir, `${name}.key`),
    })),
  };
};

/** A `tls_ca` file: every PEM certificate in it, each checked to parse; at least one. */
export const readCertificateFile: CertificateReader = (path) => {
  const errors: string[] = [];
  const text = readText(path, errors);
  if (text === undefined) return { ok: false, error: errors.join('; ') };
  const certificates = text.match(PEM_CERTIFICATE) ?? [];
  if (certificates.length === 0) return { ok: false, error: `${path} ${NO_PEM_CERTIFICATE}` };
  for (const [index, pem] of certificates.entries()) {
    try {
      new X509Certificate(pem);
    } catch (error) {
      const message = (error as Error).message;
      return { ok: false, error: `${path}: certificate ${index + 1} is not valid: ${message}` };
    }
  }
  return { ok: true, value: certificates };
};
