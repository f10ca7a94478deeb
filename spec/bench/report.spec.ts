import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BENCH_END,
  BENCH_START,
  benchBlock,
  cpuRoundRatios,
  headlineRatios,
  markdown,
  readmeSummary,
  replaceBenchBlock,
} from '../../bench/lib/report';
import { parseResults, type Results } from '../../bench/lib/results';

const root = join(__dirname, '..', '..');
const read = (...path: string[]): string => readFileSync(join(root, ...path), 'utf8');
const latest = parseResults(read('bench', 'results', 'latest.json'));

/** Table rows without the padding Prettier adds. */
const unpadded = (text: string): string =>
  text
    .split('\n')
    .map((line) =>
      line.startsWith('|')
        ? line
            .split('|')
            .map((cell) => (/^\s*-+\s*$/.test(cell) ? '---' : cell.trim()))
            .join('|')
        : line,
    )
    .join('\n');

describe('benchmark report blocks', () => {
  it('replaces only what lies between the markers', () => {
    const prose = `Between \`${BENCH_START}\` and \`${BENCH_END}\`.`;
    const document = `# Title\n\n${prose}\n\n${BENCH_START}\nold\n${BENCH_END}\n\nAfter.\n`;
    expect(replaceBenchBlock(document, 'new $& $1\n')).toBe(
      `# Title\n\n${prose}\n\n${BENCH_START}\n\nnew $& $1\n\n${BENCH_END}\n\nAfter.\n`,
    );
  });

  it('says when the rounds rotated the order of the targets', () => {
    const rotated = { ...latest, settings: { ...latest.settings, orderRotated: true } };
    const fixed = { ...latest, settings: { ...latest.settings, orderRotated: undefined } };
    expect(markdown(rotated, {})).toContain('targets interleaved in each round, order rotated');
    expect(markdown(fixed, {})).not.toContain('order rotated');
  });

  it('refuses a document without markers', () => {
    expect(() => replaceBenchBlock('# Title\n', 'new')).toThrow(BENCH_START);
  });

  it('gives the README the chart and the headline ratios, no table', () => {
    const summary = readmeSummary(latest, 'bench/results/latest.svg');
    const { http, https, http2, websocket, wsMemory } = headlineRatios(latest);
    expect(summary.split('\n\n').map((part) => part.trim())).toEqual(
      [
        '![Median HTTP requests per second](bench/results/latest.svg)',
        http,
        https,
        http2,
        websocket,
        wsMemory,
      ].filter((line) => line !== undefined),
    );
    expect(summary).not.toContain('|');
  });

  it('matches the blocks committed in README.md and docs/performance.md', () => {
    expect(benchBlock(read('README.md'))).toBe(
      readmeSummary(latest, 'bench/results/latest.svg').trim(),
    );
    const tables = markdown(latest, { chart: '../bench/results/latest.svg' });
    expect(unpadded(benchBlock(read('docs', 'performance.md')) ?? '')).toBe(
      unpadded(tables.trim()),
    );
  });

  it('reads memory results without a method as fresh', () => {
    const raw = JSON.parse(read('bench', 'results', 'latest.json')) as Results;
    raw.wsMemory.forEach((w) => delete (w as Partial<typeof w>).method);
    const results = parseResults(JSON.stringify(raw));
    expect(results.wsMemory.map((w) => w.method)).toEqual(raw.wsMemory.map(() => 'fresh'));
    expect(headlineRatios(results).wsMemory).toContain('rxproxy / nginx KiB per WebSocket fresh:');
    expect(unpadded(markdown(results))).toContain('|rxproxy|fresh|');
    expect(markdown(results)).not.toContain('after load');
  });

  it('shows both memory methods side by side, the headline after load', () => {
    const fresh = latest.wsMemory
      .filter((w) => w.method === 'fresh')
      .map((w) => ({ ...w, method: 'fresh' as const }));
    const afterLoad = fresh.map((w) => ({
      ...w,
      method: 'after load' as const,
      kibPerWebSocket: w.kibPerWebSocket / 2,
    }));
    const results: Results = { ...latest, wsMemory: [...afterLoad, ...fresh] };
    const { wsMemory } = headlineRatios(results);
    expect(wsMemory).toContain('KiB per WebSocket after load:');
    expect(wsMemory).not.toContain('fresh');
    const rows = unpadded(markdown(results))
      .split('\n')
      .filter((line) => /^\|(rxproxy|nginx)\|(fresh|after load)\|/.test(line))
      .map((line) => line.split('|').slice(1, 3).join(' '));
    expect(rows).toEqual([
      'rxproxy fresh',
      'rxproxy after load',
      'nginx fresh',
      'nginx after load',
    ]);
    expect(markdown(results)).toContain('- after load:');
  });

  it('compares CPU per request with the references round by round', () => {
    const run = (round: number, target: string, cpuPer10k: number) => ({
      round,
      target,
      cpuPer10k,
    });
    const runs = [
      run(1, 'rxproxy', 0.9),
      run(1, 'nginx', 0.3),
      run(2, 'rxproxy', 1.2),
      run(2, 'nginx', 0.3),
      run(3, 'rxproxy', 0.6),
      run(3, 'nginx', 0.3),
      run(1, 'node-http-proxy', 1.5),
    ];
    expect(cpuRoundRatios(runs, 'CPU per request')).toBe(
      'rxproxy / nginx CPU per request: 3.00× (rounds 2.00–4.00)',
    );
    expect(cpuRoundRatios([run(1, 'rxproxy', 1)], 'CPU per request')).toBeUndefined();
  });

  it('splits CPU into user and kernel time where the results have it', () => {
    const results: Results = {
      ...latest,
      http: latest.http.map((r) => ({
        ...r,
        userSeconds: r.cpuSeconds * 0.75,
        systemSeconds: r.cpuSeconds * 0.25,
      })),
    };
    const row = unpadded(markdown(results))
      .split('\n')
      .find((line) => line.startsWith('|rxproxy|'));
    expect(row).toMatch(/\|\d\.\d{3} \/ \d\.\d{3}\|/);
  });

  it('renders the HTTPS rounds in their own table, or why they did not run', () => {
    const https = latest.http.map((run) => ({ ...run, rps: run.rps / 2 }));
    const withTls = markdown({ ...latest, https });
    expect(withTls).toContain('### HTTPS (HTTP/1.1 over TLS)');
    expect(withTls).toMatch(/rxproxy \/ nginx req\/s over TLS: \d\.\d\d×/);
    expect(markdown({ ...latest, https: [] })).not.toContain('### HTTPS');
    const skipped = markdown({
      ...latest,
      settings: { ...latest.settings, tlsSkipped: 'openssl is not installed' },
    });
    expect(skipped).toContain('Not run: openssl is not installed.');
  });
});
