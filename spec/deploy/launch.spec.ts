import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { shippedNodeOptions } from '../../bench/lib/targets';
import { REPOSITORY } from '../helpers/deployFiles';

/** The image's CMD as its words. */
function imageCommand(): string[] {
  const text = readFileSync(join(REPOSITORY, 'Dockerfile'), 'utf8');
  const cmd = [...text.matchAll(/^CMD (\[.*\])$/gm)].at(-1)?.[1];
  if (cmd === undefined) throw new Error('Dockerfile: no exec-form CMD');
  return JSON.parse(cmd) as string[];
}

const packageScripts = (
  JSON.parse(readFileSync(join(REPOSITORY, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  }
).scripts;

/** Allocates objects that survive a few scavenges, then prints the new space's size in bytes. */
const GROW_NEW_SPACE = `
const kept = [];
for (let i = 0; i < 3e6; i++) {
  kept.push({ i, list: [i] });
  if (kept.length > 300000) kept.splice(0, 150000);
}
const space = require('node:v8').getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
console.log(space.space_size);
`;

/** Prints the number of threads the process runs. */
const COUNT_THREADS = "console.log(require('node:fs').readdirSync('/proc/self/task').length)";

/** The number a node process started with these options prints when it runs `script`. */
function printedBy(options: readonly string[], script: string): number {
  const run = spawnSync(process.execPath, [...options, '-e', script], { encoding: 'utf8' });
  expect(run.status).toBe(0);
  return Number(run.stdout.trim());
}

describe('how the proxy is launched', () => {
  const command = imageCommand();
  const options = command.slice(1, command.indexOf('dist/cli.js'));

  it('the image runs node with the options before dist/cli.js', () => {
    expect(command[0]).toBe('node');
    expect(command.at(-1)).toBe('dist/cli.js');
    expect(options).toEqual(['--max-semi-space-size=4', '--v8-pool-size=1']);
  });

  it('npm start and the benchmark launch it with the same options', () => {
    expect(packageScripts.start).toBe(`node ${options.join(' ')} dist/cli.js --demo`);
    expect(shippedNodeOptions(REPOSITORY)).toEqual(options);
  });

  it('no options for a build without a Dockerfile', () => {
    expect(shippedNodeOptions(join(REPOSITORY, 'spec'))).toEqual([]);
  });

  it('the options leave V8 one helper thread instead of four', () => {
    expect(printedBy([], COUNT_THREADS)).toBe(printedBy(options, COUNT_THREADS) + 3);
  });

  it('the options let V8 new space grow to 2 x 4 MiB and no further', () => {
    expect(printedBy(options, GROW_NEW_SPACE)).toBe(8 * 1024 * 1024);
  });
});
