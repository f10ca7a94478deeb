import { performance } from 'node:perf_hooks';
import { request, type Agent } from 'undici';

/** A GET that did not come back as 200 with its own URL in a backend's answer. */
export interface FailedGet {
  readonly loop: number;
  readonly url: string;
  /** performance.now() when the answer (or the error) came. */
  readonly at: number;
  readonly status?: number;
  readonly body?: string;
  readonly error?: string;
}

export interface GetLoops {
  /** Requests answered correctly so far, by the backend that answered. */
  readonly servedBy: Record<string, number>;
  readonly failures: FailedGet[];
  /** Resolves when every loop has stopped. */
  readonly done: Promise<void>;
}

/** Why an answer is not a backend's answer to `path`, or undefined when it is. */
function wrongAnswer(status: number, body: string, path: string, backends: ReadonlySet<string>) {
  if (status !== 200) return 'status';
  try {
    const parsed = JSON.parse(body) as { backend?: unknown; url?: unknown };
    if (typeof parsed.backend !== 'string' || !backends.has(parsed.backend)) return 'backend';
    return parsed.url === path ? undefined : 'url';
  } catch {
    return 'body';
  }
}

/**
 * `loops` concurrent loops of GETs over `client` until `stop()` says so or a loop has sent
 * `maxPerLoop`. Every answer must be 200 with a JSON body naming one of `backends` and the URL.
 */
export function runGetLoops(
  client: Agent,
  baseUrl: string,
  backends: ReadonlySet<string>,
  options: { readonly loops: number; readonly maxPerLoop: number; readonly stop: () => boolean },
): GetLoops {
  const servedBy: Record<string, number> = {};
  const failures: FailedGet[] = [];
  const loop = async (index: number) => {
    for (let i = 0; i < options.maxPerLoop && !options.stop(); i++) {
      const path = `/load/${index}/${i}`;
      try {
        const response = await request(`${baseUrl}${path}`, { dispatcher: client });
        const body = await response.body.text();
        const status = response.statusCode;
        if (wrongAnswer(status, body, path, backends) === undefined) {
          const name = (JSON.parse(body) as { backend: string }).backend;
          servedBy[name] = (servedBy[name] ?? 0) + 1;
        } else {
          failures.push({ loop: index, url: path, at: performance.now(), status, body });
        }
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        failures.push({ loop: index, url: path, at: performance.now(), error: message });
      }
    }
  };
  const done = Promise.all(Array.from({ length: options.loops }, (_, i) => loop(i))).then(
    () => undefined,
  );
  return { servedBy, failures, done };
}
