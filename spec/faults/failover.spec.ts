import { Agent, request } from 'undici';
import type { ProxyEvent } from '../../src/events';
import { startBackend } from '../helpers/backend';
import { startHttpBackendProcess, type ChildServer } from '../helpers/childServer';
import { iniWith, startProxy, testClient, type RunningProxy } from '../helpers/proxy';
import { sleep, waitUntil } from '../helpers/waitUntil';

interface Served {
  readonly status: number;
  readonly backend: string | undefined;
  readonly at: number;
}

/** One GET; the backend that answered comes from the JSON body. */
async function get(client: Agent, url: string): Promise<Served> {
  const response = await request(url, { dispatcher: client });
  const text = await response.body.text();
  const backend =
    response.statusCode === 200 ? (JSON.parse(text) as { backend: string }).backend : undefined;
  return { status: response.statusCode, backend, at: Date.now() };
}

/** `loops` concurrent GET loops until `stop()` says so; at most `max` requests each. */
function loadLoops(client: Agent, url: string, loops: number, stop: () => boolean, max = 3000) {
  const served: Served[] = [];
  const done = Promise.all(
    Array.from({ length: loops }, async (_, loop) => {
      for (let i = 0; i < max && !stop(); i++)
        served.push(await get(client, `${url}/${loop}/${i}`));
    }),
  );
  return { served, done };
}

const healthEvents = (events: readonly ProxyEvent[]) =>
  events.filter((event) => event.type === 'health');

/** Starts two backend processes and the proxy in front of them; tears everything down after. */
async function withTwoBackends(
  pool: string,
  run: (proxy: RunningProxy, a: ChildServer, b: ChildServer, client: Agent) => Promise<void>,
): Promise<void> {
  const [a, b] = await Promise.all([startHttpBackendProcess('a'), startHttpBackendProcess('b')]);
  const client = testClient();
  let proxy: RunningProxy | undefined;
  try {
    proxy = await startProxy(
      iniWith(`[http]\n${pool}\nserver1=${a.address}\nserver2=${b.address}\n`),
    );
    await run(proxy, a, b, client);
  } finally {
    await client.close();
    await proxy?.stop();
    await Promise.all([a.kill(), b.kill()]);
  }
}

describe('failover when a backend process is killed (kill -9)', () => {
  it('round-robin with health checks: no GET fails while one backend dies, three times over', async () => {
    for (let round = 0; round < 3; round++) {
      await withTwoBackends(
        'algorithm=round-robin\nenable_health_check=true\nhealth_check_interval=1s',
        async (proxy, _a, b, client) => {
          let killedAt = 0;
          const { served, done } = loadLoops(
            client,
            proxy.url,
            8,
            () => killedAt > 0 && Date.now() - killedAt > 1200,
          );
          await waitUntil(() => served.length >= 200, 'traffic flows to both backends');
          await b.kill();
          killedAt = Date.now();
          await done;
          expect(served.filter((result) => result.status !== 200)).toEqual([]);
          const after = served.filter((result) => result.at > killedAt + 100);
          expect(after.length).toBeGreaterThan(50);
          expect(after.every((result) => result.backend === 'a')).toBe(true);
        },
      );
    }
  });

  it('round-robin with health checks: no GET fails when a backend server closes, three times over', async () => {
    for (let round = 0; round < 3; round++) {
      const [a, b] = [await startBackend('a'), await startBackend('b')];
      const client = testClient();
      const proxy = await startProxy(
        iniWith(
          `[http]\nalgorithm=round-robin\nenable_health_check=true\nhealth_check_interval=1s\n` +
            `server1=${a.address}\nserver2=${b.address}\n`,
        ),
      );
      try {
        let closedAt = 0;
        const { served, done } = loadLoops(
          client,
          proxy.url,
          8,
          () => closedAt > 0 && Date.now() - closedAt > 1200,
        );
        await waitUntil(() => served.length >= 200, 'traffic flows to both backends');
        await b.close();
        closedAt = Date.now();
        await done;
        expect(served.filter((result) => result.status !== 200)).toEqual([]);
      } finally {
        await client.close();
        await proxy.stop();
        await a.close();
      }
    }
  });

  it('consistent-hash: requests for the dead owner reach the next node at once, three times over', async () => {
    for (let round = 0; round < 3; round++) {
      await withTwoBackends(
        'algorithm=consistent-hash\nhash_key=ip\nmax_workers=50\nbuffer_size=50',
        async (proxy, a, b, client) => {
          const warm = await Promise.all(
            Array.from({ length: 20 }, (_, i) => get(client, `${proxy.url}/warm/${i}?delay=50`)),
          );
          const owner = warm[0]?.backend;
          expect(warm.every((result) => result.status === 200 && result.backend === owner)).toBe(
            true,
          );
          await (owner === 'a' ? a : b).kill();
          const startedAt = Date.now();
          const after = await Promise.all(
            Array.from({ length: 20 }, (_, i) => get(client, `${proxy.url}/after/${i}`)),
          );
          const slowest = Math.max(...after.map((result) => result.at)) - startedAt;
          expect(after.map((result) => result.status)).toEqual(Array(20).fill(200));
          expect(after.every((result) => result.backend !== owner)).toBe(true);
          expect(slowest).toBeLessThan(1000);
        },
      );
    }
  });

  it('backs off connection attempts to a dead backend: at most 10 a second, twice over', async () => {
    for (let round = 0; round < 2; round++) {
      await withTwoBackends(
        'algorithm=round-robin\nmin_workers=3',
        async (proxy, _a, b, client) => {
          let enough = false;
          const { served, done } = loadLoops(client, proxy.url, 4, () => enough);
          await waitUntil(() => served.length >= 50, 'traffic flows');
          await b.kill();
          await sleep(300);
          enough = true;
          await done;
          const windowStart = proxy.events.length;
          await sleep(2500);
          const attempts = proxy.events
            .slice(windowStart)
            .filter(
              (event) =>
                event.type === 'worker' &&
                event.backend === 'server2' &&
                event.action === 'spawned',
            );
          expect(attempts.length).toBeGreaterThan(0);
          expect(attempts.length).toBeLessThanOrEqual(25);
          expect(served.filter((result) => result.status !== 200)).toEqual([]);
        },
      );
    }
  });

  it('returns a restarted backend ejected for connection failures once its health checks pass, three times over', async () => {
    for (let round = 0; round < 3; round++) {
      await withTwoBackends(
        'algorithm=round-robin\nenable_health_check=true\nhealth_check_interval=300ms\n' +
          'health_check_rise=2\nhealth_check_fall=3\neject_time=30s',
        async (proxy, _a, b, client) => {
          let stop = false;
          const { served, done } = loadLoops(client, proxy.url, 16, () => stop, 5000);
          try {
            await waitUntil(() => served.length >= 100, 'traffic flows');
            await b.kill();
            await waitUntil(
              () =>
                healthEvents(proxy.events).some(
                  (event) => event.type === 'health' && (event.reason ?? '').startsWith('ejected'),
                ),
              'server2 is ejected by passive checks',
            );
            await sleep(1000);
            const restarted = await startHttpBackendProcess('b', b.port);
            const restartedAt = Date.now();
            try {
              // interval x rise plus one interval, with room for a busy machine
              await waitUntil(
                () => served.some((result) => result.backend === 'b' && result.at > restartedAt),
                'the restarted backend gets traffic',
                4000,
              );
            } finally {
              stop = true;
              await done;
              await restarted.kill();
            }
            expect(served.filter((result) => result.status !== 200)).toEqual([]);
          } finally {
            stop = true;
            await done;
          }
        },
      );
    }
  });
});
