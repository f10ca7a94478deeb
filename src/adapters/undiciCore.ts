import type { Agent as UndiciAgent, Dispatcher } from 'undici';

/*
 * undici's index loads fetch, caches, mocks, proxies and more: about 9 MiB of resident memory
 * that the proxy never uses (idle RSS 67 → 58 MiB). Only the dispatcher and the request helper
 * the health checks use are loaded, from the same package version, and only once a health
 * check needs them: without `enable_health_check` undici is not loaded at all.
 */
interface UndiciParts {
  readonly Agent: typeof UndiciAgent;
  readonly request: (
    this: Dispatcher,
    options: Dispatcher.RequestOptions,
  ) => Promise<Dispatcher.ResponseData>;
}

let parts: UndiciParts | undefined;

function undici(): UndiciParts {
  /* eslint-disable @typescript-eslint/no-require-imports */
  parts ??= {
    Agent: require('undici/lib/dispatcher/agent') as UndiciParts['Agent'],
    request: require('undici/lib/api/api-request') as UndiciParts['request'],
  };
  /* eslint-enable @typescript-eslint/no-require-imports */
  return parts;
}

export type Agent = UndiciAgent;
export type { Dispatcher };

/** A new undici Agent. */
export function newAgent(options: UndiciAgent.Options): Agent {
  return new (undici().Agent)(options);
}

/** undici's `request` on a given dispatcher. */
export function request(
  dispatcher: Dispatcher,
  options: Dispatcher.RequestOptions,
): Promise<Dispatcher.ResponseData> {
  return undici().request.call(dispatcher, options);
}
