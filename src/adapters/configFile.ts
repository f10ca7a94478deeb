import { readFileSync } from 'node:fs';
import { parse } from 'ini';
import { buildConfig, findDuplicateKeys, type ConfigResult, type Environment } from '../config';
import { readCertificateFile, readCertificateFolder, readKeyPair } from './serverCertificates';

export type LoadResult = ConfigResult | { readonly ok: false; readonly notFound: true };

/** Parses INI text into a validated Config; env supplies `${VAR}` values. */
export function parseConfigText(
  text: string,
  file: string,
  env: Environment = process.env,
): ConfigResult {
  return buildConfig(parse(text), file, env, findDuplicateKeys(text, file), readCertificateFile, {
    readKeyPair,
    readFolder: readCertificateFolder,
  });
}

export function loadConfigFile(file: string, env: Environment = process.env): LoadResult {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return { ok: false, notFound: true };
    }
    return { ok: false, problems: [{ file, message: `cannot read: ${(error as Error).message}` }] };
  }
  return parseConfigText(text, file, env);
}
