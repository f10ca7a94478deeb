import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A key and certificate in PEM, and the files that hold them. */
export interface IssuedCertificate {
  readonly key: string;
  readonly cert: string;
  readonly keyFile: string;
  readonly certFile: string;
}

export interface TestCertificates {
  /** The throwaway CA: trust `ca.certFile` to accept what `issue` signs. */
  readonly ca: IssuedCertificate;
  readonly dir: string;
  /**
   * A leaf certificate signed by the CA for `names`: DNS names and IP addresses (e.g.
   * `['localhost', '127.0.0.1']`), as subjectAltName entries.
   */
  issue(label: string, names: readonly string[], days?: number): IssuedCertificate;
  /** A self-signed certificate that expired in 2020. */
  expired(label: string, names: readonly string[]): IssuedCertificate;
  /** A certificate signed by nobody but itself, for `names`. */
  selfSigned(label: string, names: readonly string[]): IssuedCertificate;
  /** Removes the folder and everything in it. */
  remove(): void;
}

const IP_ADDRESS = /^[\d.]+$|:/;

function altNames(names: readonly string[]): string {
  return names.map((name) => (IP_ADDRESS.test(name) ? `IP:${name}` : `DNS:${name}`)).join(',');
}

function openssl(args: readonly string[]): void {
  execFileSync('openssl', args, { stdio: 'pipe' });
}

function read(keyFile: string, certFile: string): IssuedCertificate {
  return {
    key: readFileSync(keyFile, 'utf8'),
    cert: readFileSync(certFile, 'utf8'),
    keyFile,
    certFile,
  };
}

/**
 * A CA made at test time with the `openssl` command in a temporary folder, and leaf
 * certificates it signs; nothing is kept after `remove()`.
 */
export function createTestCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'rxproxy-certs-'));
  const file = (name: string) => join(dir, name);
  const keyArgs = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl([
    'req', '-x509', ...keyArgs, '-keyout', file('ca.key'), '-out', file('ca.pem'),
    '-days', '2', '-subj', '/CN=rxproxy test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]); // prettier-ignore
  const ca = read(file('ca.key'), file('ca.pem'));
  return {
    ca,
    dir,
    issue(label, names, days = 2) {
      const extensions = file(`${label}.ext`);
      writeFileSync(
        extensions,
        `subjectAltName=${altNames(names)}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`,
      );
      openssl([
        'req', '-new', ...keyArgs, '-keyout', file(`${label}.key`), '-out', file(`${label}.csr`),
        '-subj', `/CN=${names[0] ?? label}`,
      ]); // prettier-ignore
      openssl([
        'x509', '-req', '-in', file(`${label}.csr`), '-CA', ca.certFile, '-CAkey', ca.keyFile,
        '-CAcreateserial', '-days', String(days), '-extfile', extensions, '-out', file(`${label}.pem`),
      ]); // prettier-ignore
      return read(file(`${label}.key`), file(`${label}.pem`));
    },
    selfSigned(label, names) {
      openssl([
        'req', '-x509', ...keyArgs, '-keyout', file(`${label}.key`), '-out', file(`${label}.pem`),
        '-days', '2', '-subj', `/CN=${names[0] ?? label}`,
        '-addext', `subjectAltName=${altNames(names)}`,
      ]); // prettier-ignore
      return read(file(`${label}.key`), file(`${label}.pem`));
    },
    expired(label, names) {
      const config = file(`${label}.cnf`);
      writeFileSync(file(`${label}.index`), '');
      writeFileSync(file(`${label}.serial`), '01\n');
      writeFileSync(
        config,
        `[ca]\ndefault_ca=d\n[d]\ndatabase=${file(`${label}.index`)}\nnew_certs_dir=${dir}\n` +
          `serial=${file(`${label}.serial`)}\npolicy=p\ndefault_md=sha256\n[p]\ncommonName=supplied\n` +
          `[x]\nsubjectAltName=${altNames(names)}\n`,
      );
      openssl([
        'req', '-new', ...keyArgs, '-keyout', file(`${label}.key`), '-out', file(`${label}.csr`),
        '-subj', `/CN=${names[0] ?? label}`,
      ]); // prettier-ignore
      openssl([
        'ca', '-batch', '-config', config, '-selfsign', '-keyfile', file(`${label}.key`),
        '-in', file(`${label}.csr`), '-out', file(`${label}.pem`), '-extensions', 'x',
        '-startdate', '20200101000000Z', '-enddate', '20200102000000Z',
      ]); // prettier-ignore
      return read(file(`${label}.key`), file(`${label}.pem`));
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Test certificates made before the file's tests and removed after them. */
export function useTestCertificates(): TestCertificates {
  let made: TestCertificates | undefined;
  beforeAll(() => {
    made = createTestCertificates();
  });
  afterAll(() => made?.remove());
  const current = (): TestCertificates => {
    if (!made) throw new Error('the test certificates exist only inside the tests');
    return made;
  };
  return {
    get ca() {
      return current().ca;
    },
    get dir() {
      return current().dir;
    },
    issue: (...args) => current().issue(...args),
    expired: (...args) => current().expired(...args),
    selfSigned: (...args) => current().selfSigned(...args),
    remove: () => current().remove(),
  };
}
