import { createRequire } from 'node:module';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as Rxjs from 'rxjs';
import * as operators from '../operators/builtins';
import { reply, type ProxyHooks } from '../hooks/types';

/** What a hook module's function receives, so it needs no `require('rxproxy')` of its own. */
export interface HookModuleApi {
  readonly rxjs: typeof Rxjs;
  readonly operators: typeof operators;
  readonly reply: typeof reply;
}

/**
 * What hook modules get. RxJS's whole index (what `require('rxjs')` gives a module) is loaded
 * only when a hook module is: the proxy itself loads RxJS module by module (src/rx.ts).
 */
export function hookModuleApi(): HookModuleApi {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use only
  return { rxjs: require('rxjs') as typeof Rxjs, operators, reply };
}

const HOOK_KINDS = ['request', 'response', 'events', 'healthySet'] as const;

// A real dynamic import: this file is compiled to CommonJS, where `import()` would become
// `require()`, which cannot load an ES module on Node 20.
// eslint-disable-next-line @typescript-eslint/no-implied-eval -- the only way to keep import() in CommonJS output
const importModule = new Function('specifier', 'return import(specifier)') as (
  specifier: string,
) => Promise<unknown>;

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function isFunctionOrList(value: unknown): boolean {
  return (
    typeof value === 'function' ||
    (Array.isArray(value) && value.every((item) => typeof item === 'function'))
  );
}

/** Checks the shape of what a module's function returned; a message per problem. */
function checkHooks(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') {
    return 'its function must return an object of hooks ({ request, response, events, healthySet })';
  }
  for (const [key, hook] of Object.entries(value)) {
    if (!(HOOK_KINDS as readonly string[]).includes(key)) {
      return `returns an unknown hook "${key}" (hooks are ${HOOK_KINDS.join(', ')})`;
    }
    if (hook !== undefined && !isFunctionOrList(hook)) {
      return `hook "${key}" must be an operator (a function) or an array of them`;
    }
  }
  return undefined;
}

/**
 * Loads `[hooks] module`: CommonJS (`.js`, `.cjs`) or an ES module (`.mjs`) whose export (or
 * default export) is a function of `{ rxjs, operators, reply }` returning the hooks, or a
 * promise of them. Rejects with a message fit for a configuration problem.
 */
export async function loadHookModule(
  path: string,
  api: HookModuleApi = hookModuleApi(),
  fresh = false,
): Promise<ProxyHooks> {
  const file = isAbsolute(path) ? path : resolve(path);
  let exported: unknown;
  try {
    if (file.endsWith('.mjs')) {
      // ES modules are cached by URL for the process's life: a reload asks for a new URL.
      const url = pathToFileURL(file);
      if (fresh) url.search = `?reload=${Date.now()}`;
      exported = await importModule(url.href);
    } else {
      const load = createRequire(__filename);
      if (fresh) delete load.cache[load.resolve(file)];
      exported = load(file);
    }
  } catch (error) {
    throw new Error(`cannot load ${file}: ${messageOf(error)}`, { cause: error });
  }
  const candidate = exported as { default?: unknown } | undefined;
  const factory = typeof exported === 'function' ? exported : candidate?.default;
  if (typeof factory !== 'function') {
    throw new Error(`${file} must export a function ({ rxjs, operators, reply }) => hooks`);
  }
  let hooks: unknown;
  try {
    hooks = await (factory as (api: HookModuleApi) => unknown)(api);
  } catch (error) {
    throw new Error(`${file}: its function failed: ${messageOf(error)}`, { cause: error });
  }
  const problem = checkHooks(hooks);
  if (problem !== undefined) throw new Error(`${file} ${problem}`);
  return hooks as ProxyHooks;
}
