export { createProxy, type Proxy, type ProxyOptions } from './proxy';
export { parseConfigText, loadConfigFile } from './adapters/configFile';
export * from './config';
export type { ProxyEvent, ProxyEventType, ProxyEventOf } from './events';
export {
  reply,
  isReply,
  type EventsHook,
  type HeaderMap,
  type HealthySetHook,
  type ProxyHooks,
  type ProxyReply,
  type ProxyRequest,
  type ProxyResponse,
  type RequestHook,
  type ResponseHook,
} from './hooks/types';
export { syncHook, type SyncHook } from './hooks/syncHook';
export * as operators from './operators/builtins';
export { loadHookModule, type HookModuleApi } from './adapters/hookModule';
export type { HealthySnapshot } from './streams/healthySet';
