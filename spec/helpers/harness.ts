import type { Agent } from 'undici';
import { startBackend, type TestBackend } from './backend';
import { iniWith, startProxy, testClient, type RunningProxy } from './proxy';

export interface Harness {
  /** A fresh client for each test. */
  readonly client: Agent;
  /** A real backend, closed after the test. */
  readonly backend: (...args: Parameters<typeof startBackend>) => Promise<TestBackend>;
  /** The real proxy from `[frontend]` on port 0 plus `sections`, stopped after the test. */
  readonly proxy: (sections: string, frontend?: string) => Promise<RunningProxy>;
  /** Runs `cleanup` after the test, in reverse order of registration. */
  readonly onCleanup: (cleanup: () => Promise<void> | void) => void;
}

/** Registers beforeEach/afterEach hooks that give each test a client and clean up after it. */
export function useHarness(makeClient: () => Agent = testClient): Harness {
  let client: Agent | undefined;
  const cleanups: (() => Promise<void> | void)[] = [];
  const onCleanup = (cleanup: () => Promise<void> | void) => {
    cleanups.push(cleanup);
  };

  beforeEach(() => {
    const fresh = makeClient();
    client = fresh;
    onCleanup(() => fresh.close());
  });

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  return {
    get client(): Agent {
      if (!client) throw new Error('the client exists only inside a test');
      return client;
    },
    backend: async (...args) => {
      const started = await startBackend(...args);
      onCleanup(() => started.close());
      return started;
    },
    proxy: async (sections, frontend = '') => {
      const started = await startProxy(iniWith(sections, frontend));
      onCleanup(() => started.stop());
      return started;
    },
    onCleanup,
  };
}
