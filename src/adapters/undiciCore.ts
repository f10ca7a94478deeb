import type { Agent as UndiciAgent, Dispatcher } from 'undici';

/*
 * undici's index loads fetch, caches, mocks, proxies and more: about 9 MiB of resident memory
 * that the proxy never uses (idle RSS 67 → 58 MiB). Only the dispatcher and the request helper
 * the health checks use are loaded, from the same package version.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
export const Agent = require('undici/lib/dispatcher/agent') as typeof UndiciAgent;
const requestApi = require('undici/lib/api/api-request') as (
  this: Dispatcher,
  options: Dispatcher.RequestOptions,
) => Promise<Dispatcher.ResponseData>;
/* eslint-enable @typescript-eslint/no-require-imports */

export type Agent = UndiciAgent;
export type { Dispatcher };

/** undici's `request` on a given dispatcher. */
export function request(
  dispatcher: Dispatcher,
  options: Dispatcher.RequestOptions,
): Promise<Dispatcher.ResponseData> {
  return requestApi.call(dispatcher, options);
}
