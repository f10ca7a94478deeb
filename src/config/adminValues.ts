import type { Parsed } from './values';

const fail = (error: string): Parsed<never> => ({ ok: false, error });

/** The default `[admin] metrics_buckets`: Prometheus' own defaults, in seconds. */
export const DEFAULT_METRICS_BUCKETS = '0.005,0.01,0.025,0.05,0.1,0.25,0.5,1,2.5,5,10';

/** Histogram bucket bounds in seconds: positive, increasing, comma-separated. */
export function parseBuckets(text: string): Parsed<readonly number[]> {
  const parts = text.split(',').map((part) => part.trim());
  const bounds: number[] = [];
  for (const part of parts) {
    const bound = /^\d+(\.\d+)?$/.test(part) ? Number(part) : Number.NaN;
    if (!(bound > 0)) return fail(`"${part}" is not a positive number of seconds`);
    const previous = bounds[bounds.length - 1];
    if (previous !== undefined && bound <= previous) {
      return fail(`buckets must increase: ${part} follows ${previous}`);
    }
    bounds.push(bound);
  }
  return bounds.length > 0 ? { ok: true, value: bounds } : fail('is empty');
}

/** A bearer token: printable ASCII without spaces (RFC 6750's token68 and more). */
export function parseToken(text: string): Parsed<string> {
  if (!/^[\x21-\x7e]+$/.test(text)) return fail('must be printable ASCII without spaces');
  return { ok: true, value: text };
}
