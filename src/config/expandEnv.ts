import type { Parsed } from './values';

export type Environment = Readonly<Record<string, string | undefined>>;

const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?:\|([^}]*))?\}/g;

/** Expands `${VAR}` and `${VAR|default}`; a missing variable without a default is an error naming it. */
export function expandEnv(text: string, env: Environment): Parsed<string> {
  const missing: string[] = [];
  const value = text.replace(REFERENCE, (_match, name: string, fallback: string | undefined) => {
    const found = env[name];
    if (found !== undefined) return found;
    if (fallback !== undefined) return fallback;
    missing.push(name);
    return '';
  });
  if (missing.length > 0) {
    const names = missing.map((name) => `\${${name}}`).join(', ');
    return {
      ok: false,
      error: `environment variable ${names} is not set and has no default (write \${NAME|default})`,
    };
  }
  return { ok: true, value };
}
