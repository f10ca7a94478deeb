import { join } from 'node:path';
import { loadHookModule } from '../../src/adapters/hookModule';
import type { Harness } from '../helpers/harness';
import { iniWith, startProxy, type RunningProxy } from '../helpers/proxy';

const EXAMPLES = join(__dirname, '..', '..', 'examples');

/** The real proxy with `examples/<file>` as its hook module, stopped after the test. */
export async function proxyWithExample(
  harness: Harness,
  file: string,
  sections: string,
): Promise<RunningProxy> {
  const moduleHooks = await loadHookModule(join(EXAMPLES, file));
  const proxy = await startProxy(iniWith(sections), { moduleHooks });
  harness.onCleanup(() => proxy.stop());
  return proxy;
}
