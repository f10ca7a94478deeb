import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { get, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'undici';
import { unusedPort, type BackendHandler } from '../helpers/backend';
import { readEvents } from '../helpers/eventStream';
import { useHarness } from '../helpers/harness';
import { logLines, runCli, type CliProcess } from '../helpers/process';
import { startWsBackend } from '../helpers/wsBackend';
import { openRecording } from '../helpers/wsClient';
import { sleep, waitUntil } from '../helpers/waitUntil';

const workerNotes = (cli: CliProcess, action: string) =>
  logLines(cli).filter((line) => line.event === 'cluster-worker' && line.action === action);

/** One GET on a connection of its own (so node:cluster hands each to the next worker). */
function freshGet(port: number, path = '/', timeoutMs = 5000): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = get({ host: '127.0.0.1', port, path, agent: false }, (res: IncomingMessage) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(timeoutMs, () => req.destroy(new Error('timeout')));
  });
}

/** The body of a GET to the admin listener. */
function adminText(port: number, path: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

/** Answers 200, or 503 to everything but health checks when `failing()` says so. */
const answering =
  (failing: () => boolean): BackendHandler =>
  (req, res, name) => {
    req.resume();
    const status = failing() && req.url !== '/healthCheck' ? 503 : 200;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ backend: name }));
  };

describe('workers = 2', () => {
  const harness = useHarness();
  let folder: string;
  beforeEach(() => {
    folder = mkdtempSync(join(tmpdir(), 'rxproxy-cluster-'));
  });
  afterEach(() => rmSync(folder, { recursive: true, force: true }));
  /** A backend that answers every request 200. */
  const healthy = (name: string) =>
    harness.backend(
      name,
      answering(() => false),
    );

  /** The CLI with two workers on a free port, once both listen; stopped after the test. */
  async function cluster(sections: string): Promise<{ cli: CliProcess; port: number }> {
    const port = await unusedPort();
    const file = join(folder, 'proxy.ini');
    writeFileSync(
      file,
      `[frontend]\nhost=127.0.0.1\nport=${port}\nworkers=2\nlog_level=info\n${sections}`,
    );
    const cli = runCli(['--config', file]);
    harness.onCleanup(async () => {
      if (cli.child.exitCode === null) cli.child.kill('SIGTERM');
      await cli.exited();
    });
    await waitUntil(
      () => workerNotes(cli, 'started').length >= 2 || cli.child.exitCode !== null,
      'both workers listen',
      15_000,
    );
    expect(workerNotes(cli, 'started')).toHaveLength(2);
    return { cli, port };
  }

  it('probes a backend once per interval, whatever the worker count', async () => {
    const hits: number[] = [];
    const backend = await harness.backend('server1', (req, res, name) => {
      if (req.url === '/healthCheck') hits.push(Date.now());
      answering(() => false)(req, res, name);
    });
    await cluster(
      `[http]\nenable_health_check=true\nhealth_check_interval=500ms\nserver1=${backend.address}`,
    );
    await sleep(700);
    const before = hits.length;
    await sleep(1500);
    const probes = hits.length - before;
    // Each worker alone would probe 3 times in 1.5 s: both together, 6.
    expect(probes).toBeGreaterThanOrEqual(2);
    expect(probes).toBeLessThanOrEqual(4);
  });

  it('ejects a backend that fails the traffic of one worker in both', async () => {
    const good = await healthy('good');
    const bad = await harness.backend(
      'bad',
      answering(() => true),
    );
    const { port } = await cluster(
      `[http]\nalgorithm=round-robin\nretries=0\nmax_fails=3\neject_time=30\n` +
        `server1=${good.address}\nserver2=${bad.address}`,
    );
    // One connection: every request goes to the same worker.
    const client = new Client(`http://127.0.0.1:${port}`, { pipelining: 1 });
    harness.onCleanup(() => client.close());
    for (let i = 0; i < 10 && bad.received.length < 3; i++) {
      const { body } = await client.request({ method: 'GET', path: `/one/${i}` });
      await body.dump();
    }
    expect(bad.received.length).toBe(3);
    await sleep(100);
    // Fresh connections go to either worker: neither sends to the ejected backend.
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push(await freshGet(port, `/both/${i}`));
    expect(statuses.every((status) => status === 200)).toBe(true);
    expect(bad.received.length).toBe(3);
  });

  it('computes health once, in the primary: one snapshot in every worker, one log line, probes counted once', async () => {
    let probes = 0;
    // Each probe reports another load: weights computed apart would differ between workers.
    const varying = await harness.backend('varying', (req, res, name) => {
      req.resume();
      if (req.url === '/healthCheck') probes++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ backend: name, cpu: (probes % 7) / 10 }));
    });
    const failing = await harness.backend('failing', (req, res) => {
      req.resume();
      res.writeHead(503);
      res.end();
    });
    const adminPort = await unusedPort();
    const { cli } = await cluster(
      `[http]\nenable_health_check=true\nhealth_check_interval=300ms\ndynamic_weights=true\n` +
        `server1=${varying.address}\nserver2=${failing.address}\n` +
        `[admin]\nhost=127.0.0.1\nport=${adminPort}`,
    );
    await sleep(1500);
    type Status = { processes: Array<{ pools: Array<{ servers: unknown[] }> }> };
    // Each worker's figures are asked for every 250 ms: look for two that agree.
    let views: string[] = [];
    for (let i = 0; i < 20; i++) {
      const { processes } = JSON.parse(await adminText(adminPort, '/status')) as Status;
      views = processes.map((worker) => JSON.stringify(worker.pools[0]?.servers));
      if (views.length === 2 && views[0] === views[1]) break;
      await sleep(100);
    }
    expect(views).toHaveLength(2);
    expect(views[0]).toBe(views[1]);
    const servers = JSON.parse(views[0] ?? '[]') as Array<{ inRotation: boolean }>;
    expect(servers.map((server) => server.inRotation)).toEqual([true, false]);
    const health = logLines(cli).filter((line) => line.event === 'health');
    expect(health).toEqual([
      expect.objectContaining({ backend: 'server2', healthy: false, cause: 'health-check' }),
    ]);
    expect(health[0]).not.toHaveProperty('worker');
    const metrics = await adminText(adminPort, '/metrics');
    const counted =
      /rxproxy_health_checks_total\{pool="http",server="server1",result="up"\} (\d+)/.exec(metrics);
    // Every worker counts each of the primary's probes; /metrics takes one count, not the sum.
    expect(Number(counted?.[1])).toBeGreaterThan(0);
    expect(Number(counted?.[1])).toBeLessThanOrEqual(probes);
    expect(metrics).toMatch(/rxproxy_server_up\{pool="http",server="server1"\} 1\n/);
    expect(metrics).toMatch(/rxproxy_server_up\{pool="http",server="server2"\} 0\n/);
  });

  it('feeds /events from the primary: every worker’s events while read, the health once', async () => {
    const backend = await healthy('server1');
    let failingNow = false;
    const failing = await harness.backend('failing', (req, res) => {
      req.resume();
      res.writeHead(failingNow ? 503 : 200);
      res.end();
    });
    const adminPort = await unusedPort();
    const { port } = await cluster(
      `[http]\nenable_health_check=true\nhealth_check_interval=300ms\nalgorithm=round-robin\n` +
        `server1=${backend.address}\nserver2=${failing.address}\n` +
        `[admin]\nhost=127.0.0.1\nport=${adminPort}`,
    );
    const feed = await readEvents(
      `http://127.0.0.1:${adminPort}/events?type=request,health`,
      13,
      async () => {
        await sleep(200);
        for (let i = 0; i < 12; i++) await freshGet(port, `/feed/${i}`);
        failingNow = true;
        await sleep(1200);
      },
    );
    expect(feed.status).toBe(200);
    const requests = feed.events.filter((event) => event.type === 'request');
    expect(requests.filter((event) => event.status === 200).length).toBeGreaterThanOrEqual(12);
    // Each with the pid of the worker that served it, both workers among them.
    expect(new Set(requests.map((event) => event.worker)).size).toBe(2);
    const health = feed.events.filter((event) => event.type === 'health');
    expect(health).toEqual([
      expect.objectContaining({ backend: 'server2', healthy: false, cause: 'health-check' }),
    ]);
    expect(health[0]).not.toHaveProperty('worker');
  });

  it('sends a consistent-hash key to the same backend from every worker', async () => {
    const seen = new Map<string, Set<string>>();
    const handler: BackendHandler = (req, res, name) => {
      const user = String(req.headers['x-user']);
      seen.set(user, (seen.get(user) ?? new Set()).add(name));
      answering(() => false)(req, res, name);
    };
    const backends = await Promise.all(
      ['server1', 'server2', 'server3'].map((name) => harness.backend(name, handler)),
    );
    const { cli, port } = await cluster(
      `[http]\nalgorithm=consistent-hash\nhash_key=header:X-User\n` +
        backends.map((backend, i) => `server${i + 1}=${backend.address}\n`).join(''),
    );
    // Fresh connections: node:cluster hands them to the workers in turn.
    for (let round = 0; round < 4; round++) {
      for (const user of ['ann', 'bob', 'cy', 'dee', 'eve']) {
        const status = await new Promise<number>((resolve, reject) => {
          get(
            { host: '127.0.0.1', port, path: '/', agent: false, headers: { 'x-user': user } },
            (res) => {
              res.resume();
              res.on('end', () => resolve(res.statusCode ?? 0));
            },
          ).on('error', reject);
        });
        expect(status).toBe(200);
      }
    }
    const requests = logLines(cli).filter((line) => line.event === 'request');
    expect(new Set(requests.map((line) => line.worker)).size).toBe(2);
    for (const [, names] of seen) expect(names.size).toBe(1);
    expect(new Set([...seen.values()].flatMap((names) => [...names])).size).toBeGreaterThan(1);
  });

  it('starts, moves and keeps the admin listener by reload; a port that cannot be bound rejects it', async () => {
    const backend = await healthy('server1');
    const [first, second] = [await unusedPort(), await unusedPort()];
    const http = `[http]\nserver1=${backend.address}\n`;
    const adminAt = (adminPort: number) => `${http}[admin]\nhost=127.0.0.1\nport=${adminPort}\n`;
    const { cli, port } = await cluster(http);
    const file = join(folder, 'proxy.ini');
    const reload = async (sections: string, applied: number) => {
      writeFileSync(
        file,
        `[frontend]\nhost=127.0.0.1\nport=${port}\nworkers=2\nlog_level=info\n${sections}`,
      );
      cli.child.kill('SIGHUP');
      await waitUntil(
        () =>
          logLines(cli).filter((line) => line.event === 'config-applied').length === applied ||
          logLines(cli).some((line) => line.event === 'config-rejected'),
        'the reload is applied or rejected',
      );
    };
    await reload(adminAt(first), 2);
    expect(await freshGet(first, '/livez')).toBe(200);
    // The workers count from the reload on, for the primary's /metrics.
    await sleep(200);
    for (let i = 0; i < 4; i++) expect(await freshGet(port, `/m/${i}`)).toBe(200);
    const metrics = await adminText(first, '/metrics');
    const served = /rxproxy_requests_total\{pool="http",server="server1",code="2xx"\} (\d+)/.exec(
      metrics,
    );
    expect(Number(served?.[1])).toBe(4);
    await reload(adminAt(second), 4);
    expect(await freshGet(second, '/livez')).toBe(200);
    await expect(freshGet(first, '/livez')).rejects.toThrow();
    // The front door's port is taken: the admin listener cannot move there.
    await reload(adminAt(port), 6);
    const [rejected] = logLines(cli).filter((line) => line.event === 'config-rejected');
    expect(String((rejected?.problems as string[] | undefined)?.[0])).toContain('[admin] port');
    expect(await freshGet(second, '/livez')).toBe(200);
    const { lastReload } = JSON.parse(await adminText(second, '/status')) as {
      lastReload: { result: string; trigger: string; problems: string[] };
    };
    expect(lastReload).toMatchObject({ result: 'rejected', trigger: 'SIGHUP' });
    expect(lastReload.problems[0]).toContain('[admin] port');
  });

  it('replaces a killed worker within 1 s; requests after its death succeed', async () => {
    const backend = await healthy('server1');
    const { cli, port } = await cluster(`[http]\nserver1=${backend.address}`);
    const victim = Number(workerNotes(cli, 'started')[0]?.pid);
    const results: Array<{ at: number; ok: boolean }> = [];
    let killedAt = 0;
    const deadline = Date.now() + 6000;
    for (let i = 0; i < 300 && Date.now() < deadline; i++) {
      if (i === 30) {
        process.kill(victim, 'SIGKILL');
        killedAt = Date.now();
      }
      const at = Date.now();
      // A connection handed to the victim as it dies is never answered: it times out.
      const ok = await freshGet(port, `/load/${i}`, 1000).then(
        (status) => status === 200,
        () => false,
      );
      results.push({ at, ok });
      if (killedAt > 0 && workerNotes(cli, 'started').length >= 3 && i > 60) break;
    }
    await waitUntil(() => workerNotes(cli, 'started').length >= 3, 'the worker is replaced', 3000);
    const died = workerNotes(cli, 'died')[0];
    const replaced = workerNotes(cli, 'started')[2];
    expect(died?.pid).toBe(victim);
    expect(died?.signal).toBe('SIGKILL');
    const diedAt = Date.parse(String(died?.time));
    expect(Date.parse(String(replaced?.time)) - diedAt).toBeLessThan(1000);
    // Connections handed to the victim before the primary saw it die may fail; none later.
    const after = results.filter((result) => result.at > diedAt);
    expect(after.length).toBeGreaterThan(0);
    expect(after.filter((result) => !result.ok)).toEqual([]);
    expect(results.filter((result) => result.at < killedAt).every((result) => result.ok)).toBe(
      true,
    );
  });

  it('drains both workers on SIGTERM (requests finish, WebSockets get 1001) and exits 0', async () => {
    const backend = await harness.backend('server1', (req, res, name) => {
      setTimeout(() => answering(() => false)(req, res, name), 800);
    });
    const wsBackend = await startWsBackend('ws1');
    harness.onCleanup(() => wsBackend.close());
    const { cli, port } = await cluster(
      `[http]\nserver1=${backend.address}\n[websocket]\nserver1=${wsBackend.address}`,
    );
    const sockets = [
      await openRecording(`ws://127.0.0.1:${port}/ws/1`, harness.onCleanup),
      await openRecording(`ws://127.0.0.1:${port}/ws/2`, harness.onCleanup),
    ];
    const slow = [freshGet(port, '/slow/1'), freshGet(port, '/slow/2')];
    await waitUntil(() => backend.received.length === 2, 'both requests reach the backend');
    cli.child.kill('SIGTERM');
    expect(await Promise.all(slow)).toEqual([200, 200]);
    expect(await cli.exited()).toBe(0);
    expect(sockets.map((socket) => socket.closed?.code)).toEqual([1001, 1001]);
    const lines = logLines(cli);
    const stopped = lines.filter((line) => line.event === 'stopped');
    expect(stopped).toHaveLength(2);
    expect(stopped.every((line) => line.drained === true)).toBe(true);
    expect(new Set(stopped.map((line) => line.worker)).size).toBe(2);
    // Both workers held a WebSocket: each closed its own.
    const opened = lines.filter((line) => line.event === 'websocket-open');
    expect(new Set(opened.map((line) => line.worker)).size).toBe(2);
  });

  it('drains once on a terminal Ctrl-C, which signals the primary and every worker', async () => {
    const backend = await harness.backend('server1', (req, res, name) => {
      setTimeout(() => answering(() => false)(req, res, name), 500);
    });
    const { cli, port } = await cluster(`[http]\nserver1=${backend.address}`);
    const slow = [freshGet(port, '/slow/1'), freshGet(port, '/slow/2')];
    await waitUntil(() => backend.received.length === 2, 'both requests reach the backend');
    for (const note of workerNotes(cli, 'started')) process.kill(Number(note.pid), 'SIGINT');
    cli.child.kill('SIGINT');
    expect(await Promise.all(slow)).toEqual([200, 200]);
    expect(await cli.exited()).toBe(0);
    const stopped = logLines(cli).filter((line) => line.event === 'stopped');
    expect(stopped.map((line) => line.drained)).toEqual([true, true]);
    expect(cli.stdout()).not.toContain('second signal');
  });

  it('validates a reload once: an invalid file leaves the workers alone, a valid one reaches both', async () => {
    const backend = await healthy('server1');
    const next = await healthy('server2');
    const { cli, port } = await cluster(`[http]\nserver1=${backend.address}`);
    const file = join(folder, 'proxy.ini');
    writeFileSync(
      file,
      `[frontend]\nhost=127.0.0.1\nport=${port}\nworkers=2\n[http]\nserver1=nope`,
    );
    cli.child.kill('SIGHUP');
    await waitUntil(
      () => logLines(cli).some((line) => line.event === 'config-rejected'),
      'the primary rejects the file',
    );
    await sleep(300);
    const rejected = logLines(cli).filter((line) => line.event === 'config-rejected');
    expect(rejected).toHaveLength(1);
    expect(rejected[0]?.worker).toBeUndefined();
    writeFileSync(
      file,
      `[frontend]\nhost=127.0.0.1\nport=${port}\nworkers=2\nlog_level=info\n` +
        `[http]\nserver2=${next.address}\nretries=2`,
    );
    cli.child.kill('SIGHUP');
    await waitUntil(
      () => logLines(cli).filter((line) => line.event === 'config-applied').length === 2,
      'both workers apply the file',
    );
    // The primary's health follows the reload too: the new server enters both workers' rotation.
    for (let i = 0; i < 4; i++) expect(await freshGet(port, `/after/${i}`)).toBe(200);
    expect(next.received.length).toBe(4);
  });

  it('serves the admin listener from the primary: per-worker status, summed metrics, probes', async () => {
    const backend = await healthy('server1');
    const adminPort = await unusedPort();
    const { port } = await cluster(
      `[http]\nserver1=${backend.address}\n[admin]\nhost=127.0.0.1\nport=${adminPort}`,
    );
    const admin = (path: string) => freshGet(adminPort, path);
    expect(await admin('/livez')).toBe(200);
    for (let i = 0; i < 6; i++) expect(await freshGet(port, `/m/${i}`)).toBe(200);
    const text = (path: string) => adminText(adminPort, path);
    let status: {
      processes: Array<{ pid: number; requestsInFlight: number; pools: unknown[] }>;
      totals: { requestsInFlight: number };
    } = { processes: [], totals: { requestsInFlight: 0 } };
    for (let i = 0; i < 40 && status.processes.length < 2; i++) {
      status = JSON.parse(await text('/status')) as typeof status;
      if (status.processes.length < 2) await sleep(50);
    }
    expect(status.processes).toHaveLength(2);
    expect(new Set(status.processes.map((worker) => worker.pid)).size).toBe(2);
    for (const worker of status.processes) expect(worker.pools).toHaveLength(1);
    // Ready once a worker's figures (asked every 250 ms) say it has a backend in rotation.
    let ready = 0;
    for (let i = 0; i < 40 && ready !== 200; i++) {
      ready = await admin('/readyz');
      if (ready !== 200) await sleep(50);
    }
    expect(ready).toBe(200);
    const metrics = await text('/metrics');
    const served = /rxproxy_requests_total\{pool="http",server="server1",code="2xx"\} (\d+)/.exec(
      metrics,
    );
    expect(Number(served?.[1])).toBe(6);
    // /status has a single process's shape too, its counters summed over both workers.
    type Summed = {
      workers: number;
      requestsInFlight: number;
      pools: Array<{
        name: string;
        servers: Array<{ name: string; requests: { served: number } }>;
      }>;
    };
    const summed = async () => JSON.parse(await text('/status')) as Summed;
    let whole = await summed();
    for (let i = 0; i < 40 && whole.pools[0]?.servers[0]?.requests.served !== 6; i++) {
      await sleep(50);
      whole = await summed();
    }
    expect(whole.workers).toBe(2);
    expect(whole.requestsInFlight).toBe(0);
    expect(whole.pools[0]?.name).toBe('http');
    expect(whole.pools[0]?.servers[0]).toMatchObject({ name: 'server1', requests: { served: 6 } });
  });
});
