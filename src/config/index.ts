export * from './types';
export { buildConfig, type RawIni } from './buildConfig';
export { findDuplicateKeys } from './duplicateKeys';
export type { Environment } from './expandEnv';
export { KEY_SPECS, writtenName, type KeySpec } from './schema';
