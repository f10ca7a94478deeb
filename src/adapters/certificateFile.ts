import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { CertificateReader } from '../config';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** A `tls_ca` file: every PEM certificate in it, each checked to parse; at least one. */
export const readCertificateFile: CertificateReader = (path) => {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    return { ok: false, error: `cannot read ${path}: ${(error as Error).message}` };
  }
  const certificates = text.match(PEM_CERTIFICATE) ?? [];
  if (certificates.length === 0) {
    return {
      ok: false,
      error: `${path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`,
    };
  }
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
