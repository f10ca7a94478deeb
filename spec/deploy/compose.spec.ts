import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, join, posix } from 'node:path';
import { promisify } from 'node:util';
import { parseConfigText } from '../../src/adapters/configFile';
import { expectConfig } from '../helpers/configResult';
import {
  checkConfigFile,
  dockerfileFacts,
  REPOSITORY,
  yamlDocuments,
} from '../helpers/deployFiles';

const FOLDER = 'deploy/compose';

/** The parts of a compose file these tests read. */
interface ComposeFile {
  services: Record<
    string,
    {
      build?: { context: string };
      environment?: Record<string, string>;
      volumes?: string[];
      ports?: string[];
      read_only?: boolean;
      stop_grace_period?: string;
      depends_on?: string[];
    }
  >;
}

const [compose] = yamlDocuments(posix.join(FOLDER, 'docker-compose.yml')) as [ComposeFile];
const proxy = compose.services.rxproxy ?? {};
const configPath = proxy.environment?.RXPROXY_CONFIG ?? '';
/** `./config:/prod:ro` as its host folder and its container folder. */
const [hostFolder = '', containerFolder = ''] = proxy.volumes?.[0]?.split(':') ?? [];
const hostFile = join(REPOSITORY, FOLDER, hostFolder, posix.basename(configPath));

/** Debian's docker-compose checks a file against the compose schema with no Docker engine. */
const dockerCompose = (process.env.PATH ?? '')
  .split(delimiter)
  .map((folder) => join(folder, 'docker-compose'))
  .find((path) => existsSync(path));
const withDockerCompose = dockerCompose === undefined ? it.skip : it;
const composeCheckTitle =
  dockerCompose === undefined
    ? 'passes docker-compose config (skipped: docker-compose is not installed)'
    : 'passes docker-compose config';

const config = () => expectConfig(parseConfigText(readFileSync(hostFile, 'utf8'), configPath, {}));

describe('deploy/compose', () => {
  withDockerCompose(composeCheckTitle, async () => {
    const file = join(REPOSITORY, FOLDER, 'docker-compose.yml');
    await expect(
      promisify(execFile)(dockerCompose ?? '', ['-f', file, 'config', '--quiet']),
    ).resolves.toMatchObject({ stderr: '' });
  });

  it('builds the image of the repository', () => {
    expect(existsSync(join(REPOSITORY, FOLDER, proxy.build?.context ?? '', 'Dockerfile'))).toBe(
      true,
    );
  });

  it('mounts a folder holding a valid file with watch_config on', async () => {
    expect(posix.dirname(configPath)).toBe(containerFolder);
    expect(containerFolder).toBe(posix.dirname(dockerfileFacts().configPath));
    expect(config().frontend.watchConfig).toBe(true);
    expect(await checkConfigFile(hostFile)).toMatchObject({ code: 0, err: '' });
  });

  it('proxies to the two app replicas it starts', () => {
    const hosts = config().http?.servers.map((server) => server.host);
    expect(hosts).toEqual(proxy.depends_on);
    expect(hosts?.every((host) => host in compose.services)).toBe(true);
  });

  it('publishes the image port, the admin port on loopback only, read-only', () => {
    const { frontend, admin } = config();
    expect(frontend.port).toBe(dockerfileFacts().exposed);
    expect(proxy.ports).toEqual([
      `${frontend.port}:${frontend.port}`,
      `127.0.0.1:${admin.port}:${admin.port}`,
    ]);
    expect(proxy.read_only).toBe(true);
  });

  it('stops within its grace period: more than shutdown_delay + drain_timeout', () => {
    const { shutdownDelayMs, drainTimeoutMs } = config().frontend;
    const grace = /^(\d+)s$/.exec(proxy.stop_grace_period ?? '')?.[1];
    expect(Number(grace) * 1000).toBeGreaterThan(shutdownDelayMs + drainTimeoutMs);
  });
});
