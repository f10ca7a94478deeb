import type { Worker } from 'node:cluster';
import { PrimaryProbes } from '../../src/adapters/clusterPrimary';
import type { ToWorker } from '../../src/cluster/messages';
import type { ProbeKey } from '../../src/adapters/sharedProbes';
import { useHarness } from '../helpers/harness';
import { waitUntil } from '../helpers/waitUntil';

/** PrimaryProbes only tells workers apart: any object stands for one. */
const fakeWorker = () => ({}) as Worker;

describe('PrimaryProbes', () => {
  const harness = useHarness();

  it('makes one request for the same probe asked by several workers', async () => {
    let hits = 0;
    const backend = await harness.backend('server1', (req, res) => {
      hits++;
      req.resume();
      res.end('ok');
    });
    const key: ProbeKey = {
      origin: `http://${backend.address}`,
      tls: undefined,
      path: '/healthCheck',
      intervalMs: 5000,
      timeoutMs: 1000,
    };
    const probes = new PrimaryProbes();
    harness.onCleanup(() => probes.close());
    const replies: Array<[string, ToWorker]> = [];
    const [first, second] = [fakeWorker(), fakeWorker()];
    probes.ask(first, { type: 'rxproxy:probe', id: 1, key, backend: 'a' }, (reply) =>
      replies.push(['first', reply]),
    );
    probes.ask(second, { type: 'rxproxy:probe', id: 1, key, backend: 'b' }, (reply) =>
      replies.push(['second', reply]),
    );
    await waitUntil(() => replies.length === 2, 'both workers get the result');
    expect(hits).toBe(1);
    expect(replies.map(([who, reply]) => [who, reply.type])).toEqual([
      ['first', 'rxproxy:probe-result'],
      ['second', 'rxproxy:probe-result'],
    ]);
    // A third ask within the interval takes the result already made.
    probes.ask(second, { type: 'rxproxy:probe', id: 2, key, backend: 'b' }, (reply) =>
      replies.push(['second', reply]),
    );
    await waitUntil(() => replies.length === 3, 'the result is reused');
    expect(hits).toBe(1);
    probes.forget(first);
    probes.forget(second);
    expect(probes.size).toBe(0);
  });
});
