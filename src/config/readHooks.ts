import type { CidrRange } from '../net/cidr';
import { resolveFrom, type Rate } from './hookValues';
import { defaultOf } from './schema';
import type { HeaderEdit, HooksConfig, RateLimitKey } from './types';

/** `request_header3` → 3, for the lines of one numbered key. */
function numberedLines(settings: ReadonlyMap<string, unknown>, key: string): HeaderEdit[] {
  const pattern = new RegExp(`^${key}(\\d+)$`);
  return [...settings.entries()]
    .map(([written, value]) => [Number(pattern.exec(written)?.[1]), value as HeaderEdit] as const)
    .filter(([number]) => !Number.isNaN(number))
    .sort(([a], [b]) => a - b)
    .map(([, edit]) => edit);
}

/** The `[hooks]` section's settings (parsed values by written key) with defaults filled in. */
export function readHooks(settings: ReadonlyMap<string, unknown>, file: string): HooksConfig {
  const setting = <T>(key: string): T =>
    settings.has(key) ? (settings.get(key) as T) : defaultOf<T>('hooks', 'hooks', key);
  const module = setting<string | undefined>('module');
  const rate = setting<Rate | undefined>('rate_limit');
  return {
    module: module === undefined ? undefined : resolveFrom(file, module),
    hookTimeoutMs: setting<number>('hook_timeout'),
    requestId: setting<boolean>('request_id'),
    requestIdHeader: setting<string>('request_id_header'),
    allowFrom: setting<readonly CidrRange[]>('allow_from'),
    rateLimit: rate && {
      text: rate.text,
      tokensPerSecond: rate.tokensPerSecond,
      burst: setting<number | undefined>('rate_limit_burst') ?? rate.amount,
      key: setting<RateLimitKey>('rate_limit_key'),
      maxKeys: setting<number>('rate_limit_keys'),
    },
    stripPrefix: setting<string | undefined>('strip_prefix'),
    requestHeaders: numberedLines(settings, 'request_header'),
    responseHeaders: numberedLines(settings, 'response_header'),
  };
}
