import { createSecureContext, type SecureContext } from 'node:tls';
import type { Server as HttpsServer, ServerOptions } from 'node:https';
import type { FrontendConfig, ServerCertificate } from '../config';
import type { ProxyEvent } from '../events';
import { certificateChooser } from '../net/certificateNames';
import { fileDigest } from './configWatch';
import { loadKeyPair, type KeyPairContent } from './serverCertificates';

/** A certificate this close to its end is reported (`certificate-expiring`), as monitors do. */
export const EXPIRY_WARNING_DAYS = 30;
const DAY_MS = 86_400_000;
/** How often the certificate files are compared with what is loaded. */
export const CERTIFICATE_POLL_MS = 1000;

type Emit = (event: ProxyEvent) => void;

interface Loaded {
  readonly certificate: ServerCertificate;
  /** The PEM text loaded: the default certificate's is the server's own. */
  content: KeyPairContent;
  context: SecureContext;
  /** The names of the loaded certificate (a renewal may change them). */
  hostnames: readonly string[];
  /** The digest of the files as loaded (or as last found broken): a change of it is a renewal. */
  digest: string | undefined;
  /** A digest seen once: loaded when the next poll finds the files the same (a finished write). */
  pending: string | undefined;
}

const digestOf = (certificate: ServerCertificate) =>
  `${fileDigest(certificate.certFile) ?? '-'}:${fileDigest(certificate.keyFile) ?? '-'}`;

/** The `certificate-expiring` warning when the certificate ends within EXPIRY_WARNING_DAYS. */
export function expiryWarning(
  certificate: Pick<ServerCertificate, 'name' | 'certFile' | 'validTo'>,
  now = Date.now(),
): ProxyEvent | undefined {
  const daysLeft = Math.floor((Date.parse(certificate.validTo) - now) / DAY_MS);
  if (daysLeft >= EXPIRY_WARNING_DAYS) return undefined;
  const { name, certFile, validTo } = certificate;
  return { type: 'certificate-expiring', name, certFile, validTo, daysLeft };
}

/**
 * The front door's certificates: one secure context per certificate, chosen per connection by
 * SNI, the first one the default. The files are polled; a renewal is loaded for new handshakes
 * (open connections keep theirs), a broken one keeps the loaded certificate.
 */
export class FrontCertificates {
  private readonly loaded: Loaded[];
  private choose: (servername: string) => Loaded | undefined;
  private server: HttpsServer | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly frontend: FrontendConfig,
    private readonly emit: Emit,
  ) {
    this.loaded = frontend.certificates.map((certificate) => {
      const digest = digestOf(certificate);
      const pair = loadKeyPair(certificate.certFile, certificate.keyFile);
      if (!pair.ok) throw new Error(pair.errors.join('; '));
      const { content, hostnames } = pair;
      const context = createSecureContext(this.contextOptions(content));
      return { certificate, content, context, hostnames, digest, pending: undefined };
    });
    this.choose = this.chooser();
  }

  private chooser() {
    return certificateChooser(
      this.loaded.map((entry) => ({ hostnames: entry.hostnames, value: entry })),
    );
  }

  private contextOptions(content: KeyPairContent) {
    return { ...content, minVersion: this.frontend.tlsMinVersion };
  }

  /** The options of the HTTPS server: the default certificate, SNI, versions, ALPN. */
  serverOptions(handshakeTimeoutMs: number): ServerOptions {
    const first = this.loaded[0];
    if (!first) throw new Error('no certificate for the front door');
    return {
      ...this.contextOptions(first.content),
      // With HTTP/2 on, the server offers `h2` first itself.
      ALPNProtocols: this.frontend.http2 ? ['h2', 'http/1.1'] : ['http/1.1'],
      handshakeTimeout: handshakeTimeoutMs,
      SNICallback: (servername, done) => done(null, (this.choose(servername) ?? first).context),
    };
  }

  /** Polls the files while the server listens; the poll ends when the server closes. */
  attach(server: HttpsServer): void {
    this.server = server;
    server.once('listening', () => {
      this.timer = setInterval(() => this.poll(), CERTIFICATE_POLL_MS);
      this.timer.unref();
    });
    server.once('close', () => this.stop());
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private poll(): void {
    for (const entry of this.loaded) {
      const digest = digestOf(entry.certificate);
      if (digest === entry.digest) {
        entry.pending = undefined;
      } else if (digest !== entry.pending) {
        entry.pending = digest;
      } else {
        entry.digest = digest;
        entry.pending = undefined;
        this.renew(entry);
      }
    }
  }

  private renew(entry: Loaded): void {
    const { name, certFile, keyFile } = entry.certificate;
    const pair = loadKeyPair(certFile, keyFile);
    if (!pair.ok) {
      this.emit({
        type: 'certificate-reload',
        outcome: 'failed',
        name,
        certFile,
        errors: pair.errors,
      });
      return;
    }
    entry.content = pair.content;
    entry.context = createSecureContext(this.contextOptions(pair.content));
    entry.hostnames = pair.hostnames;
    this.choose = this.chooser();
    if (entry === this.loaded[0]) this.server?.setSecureContext(this.contextOptions(pair.content));
    const { validTo } = pair;
    this.emit({ type: 'certificate-reload', outcome: 'reloaded', name, certFile, validTo });
    const warning = expiryWarning({ name, certFile, validTo });
    if (warning) this.emit(warning);
  }
}
