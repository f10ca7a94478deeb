import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { startBackend, unusedPort } from '../helpers/backend';
import { runCli, spawnProxy } from '../helpers/process';

/**
 * An ES module hook: refuses /admin, tags everything else. It uses `identity`, which the proxy
 * itself never loads: a hook module gets the whole of RxJS.
 */
const ESM_HOOKS = `export default ({ rxjs: { identity, map }, reply }) => ({
  request: (request$) => request$.pipe(identity, map((req) => {
    if (req.path.startsWith('/admin')) return reply(req, 401, { error: 'login first' });
    req.headers['x-hooked'] = 'esm';
    return req;
  })),
});
`;

describe('[hooks] module, through the command line', () => {
  let folder: string;
  beforeEach(() => {
    folder = mkdtempSync(join(tmpdir(), 'rxproxy-module-'));
  });
  afterEach(() => rmSync(folder, { recursive: true, force: true }));

  it('loads an ES module named relative to the config file and runs its hooks', async () => {
    writeFileSync(join(folder, 'hooks.mjs'), ESM_HOOKS);
    const backend = await startBackend('b1');
    const proxy = await spawnProxy(
      folder,
      `[http]\nserver1=${backend.address}\n[hooks]\nmodule=hooks.mjs\n`,
      await unusedPort(),
    );
    try {
      const refused = await request(`http://127.0.0.1:${proxy.port}/admin`);
      expect(refused.statusCode).toBe(401);
      expect(await refused.body.text()).toBe('{"error":"login first"}');
      const served = await request(`http://127.0.0.1:${proxy.port}/x`);
      await served.body.text();
      expect(served.statusCode).toBe(200);
      expect(backend.received.map((r) => [r.url, r.headers['x-hooked']])).toEqual([['/x', 'esm']]);
    } finally {
      proxy.cli.child.kill('SIGTERM');
      await proxy.cli.exited();
      await backend.close();
    }
  });

  it.each([
    [
      'throws when loaded',
      'module.exports = ((() => { throw new Error("broken on purpose"); })());',
      'broken on purpose',
    ],
    ['exports no function', 'module.exports = { request: 1 };', 'must export a function'],
    [
      'returns an unknown hook',
      'module.exports = () => ({ requests: [] });',
      'unknown hook "requests"',
    ],
  ])(
    '--check reports a module that %s as a problem of [hooks] module, and exits 1',
    async (_name, source, message) => {
      writeFileSync(join(folder, 'hooks.js'), source);
      const file = join(folder, 'proxy.ini');
      writeFileSync(
        file,
        `[frontend]\nhost=127.0.0.1\nport=0\n[http]\nserver1=127.0.0.1:9\n[hooks]\nmodule=hooks.js\n`,
      );
      const cli = runCli(['--config', file, '--check']);
      expect(await cli.exited()).toBe(1);
      const lines = cli.stderr().trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(`${file}: [hooks] module:`);
      expect(lines[0]).toContain(message);
      expect(cli.stdout()).toBe('');
    },
  );
});
