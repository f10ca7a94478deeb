import { request } from 'undici';
import type { TestBackend } from '../helpers/backend';
import { useHarness } from '../helpers/harness';
import type { RunningProxy } from '../helpers/proxy';

describe('consistent-hash through the proxy', () => {
  const harness = useHarness();
  const users = Array.from({ length: 1000 }, (_, index) => `user-${index}`);

  async function placement(running: RunningProxy): Promise<Map<string, string>> {
    const placed = new Map<string, string>();
    for (const user of users) {
      const response = await request(`${running.url}/me`, {
        dispatcher: harness.client,
        headers: { 'x-user': user },
      });
      placed.set(user, ((await response.body.json()) as { backend: string }).backend);
    }
    return placed;
  }

  it('keeps each X-User on its backend across a restart, and moves only a removed backend’s keys', async () => {
    const backends: TestBackend[] = [];
    for (const name of ['a', 'b', 'c', 'd']) backends.push(await harness.backend(name));
    const sections = (numbers: number[]) =>
      `[http]\nalgorithm=consistent-hash\nhash_key=header:X-User\n` +
      numbers.map((n) => `server${n}=${backends[n - 1]?.address}\n`).join('');

    const first = await harness.proxy(sections([1, 2, 3, 4]));
    const before = await placement(first);
    await first.stop();
    const restarted = await harness.proxy(sections([1, 2, 3, 4]));
    expect(await placement(restarted)).toEqual(before);
    expect(new Set(before.values())).toEqual(new Set(['a', 'b', 'c', 'd']));
    await restarted.stop();

    const withoutC = await harness.proxy(sections([1, 2, 4]));
    const after = await placement(withoutC);
    for (const user of users) {
      if (before.get(user) !== 'c') expect(after.get(user)).toBe(before.get(user));
      else expect(after.get(user)).not.toBe('c');
    }
    const moved = users.filter((user) => before.get(user) === 'c').map((user) => after.get(user));
    expect(new Set(moved)).toEqual(new Set(['a', 'b', 'd']));
  });
});
