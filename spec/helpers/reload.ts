import type { Agent } from 'undici';
import { configFromIni, iniWith, send, type RunningProxy } from './proxy';

/** Which backend answered each of `count` GETs, by the name in its JSON answer. */
export async function spread(
  running: RunningProxy,
  client: Agent,
  count: number,
): Promise<Record<string, number>> {
  const seen: Record<string, number> = {};
  for (let i = 0; i < count; i++) {
    const answer = await send(client, `${running.url}/n${i}`);
    const name = (JSON.parse(answer.body) as { backend: string }).backend;
    seen[name] = (seen[name] ?? 0) + 1;
  }
  return seen;
}

/** Reloads `running` with `[frontend]` on 127.0.0.1:0 plus `frontend` lines, then `sections`. */
export function reloadIni(running: RunningProxy, sections: string, frontend = ''): Promise<string> {
  return running.proxy.reload(configFromIni(iniWith(sections, frontend)));
}

/** An `[http]` section with round-robin and the given lines. */
export const roundRobin = (...lines: string[]): string =>
  ['[http]', 'algorithm=round-robin', ...lines].join('\n');
