export { createProxy, type Proxy, type ProxyOptions } from './proxy';
export { parseConfigText, loadConfigFile } from './adapters/configFile';
export * from './config';
export type { ProxyEvent, ProxyEventType, ProxyEventOf } from './events';
