export * from './types';
export { buildConfig, type RawIni } from './buildConfig';
export { findDuplicateKeys } from './duplicateKeys';
export type { Environment } from './expandEnv';
export { KEY_SPECS, writtenName, type KeySpec } from './schema';
export {
  hasChanges,
  initialChanges,
  reconcile,
  sameEndpoint,
  type ConfigChanges,
  type ListenerChanges,
  type PoolChanges,
  type RouteChanges,
  type ServerCommand,
} from './reconcile';
export { describeChanges } from './describeChanges';
export type { AdminKey, FrontendKey, HooksKey, PoolKey, ServerKey } from './settingKeys';
export { sameValue } from './settingKeys';
export { unverifiedTls, type UnverifiedTls } from './unverifiedTls';
