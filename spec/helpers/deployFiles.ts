import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { main } from '../../src/cli';

export const REPOSITORY = join(__dirname, '..', '..');

/** Every YAML document of a file of the repository, as plain data. */
export function yamlDocuments(path: string): unknown[] {
  return parseAllDocuments(readFileSync(join(REPOSITORY, path), 'utf8')).map((document) => {
    if (document.errors.length > 0) throw new Error(`${path}: ${document.errors.join('; ')}`);
    return document.toJS() as unknown;
  });
}

/** What the image's Dockerfile says about its user, port and configuration path. */
export function dockerfileFacts(): { user: string; exposed: number; configPath: string } {
  const text = readFileSync(join(REPOSITORY, 'Dockerfile'), 'utf8');
  const last = (pattern: RegExp) => {
    const found = [...text.matchAll(pattern)].at(-1)?.[1];
    if (found === undefined) throw new Error(`Dockerfile: nothing matches ${pattern}`);
    return found;
  };
  return {
    user: last(/^USER (\S+)$/gm),
    exposed: Number(last(/^EXPOSE (\d+)$/gm)),
    configPath: last(/^ENV RXPROXY_CONFIG=(\S+)$/gm),
  };
}

/** `rxproxy --check --config file`: its exit code and what it printed. */
export async function checkConfigFile(
  file: string,
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(['--check', '--config', file], {
    out: (text) => (out += text),
    err: (text) => (err += text),
    env,
  });
  return { code, out, err };
}
