import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BENCH_END,
  BENCH_START,
  benchBlock,
  headlineRatios,
  markdown,
  readmeSummary,
  replaceBenchBlock,
} from '../../bench/lib/report';
import type { Results } from '../../bench/lib/results';

const root = join(__dirname, '..', '..');
const read = (...path: string[]): string => readFileSync(join(root, ...path), 'utf8');
const latest = JSON.parse(read('bench', 'results', 'latest.json')) as Results;

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

  it('refuses a document without markers', () => {
    expect(() => replaceBenchBlock('# Title\n', 'new')).toThrow(BENCH_START);
  });

  it('gives the README the chart and the headline ratios, no table', () => {
    const summary = readmeSummary(latest, 'bench/results/latest.svg');
    const { http, websocket, wsMemory } = headlineRatios(latest);
    expect(summary.split('\n\n').map((part) => part.trim())).toEqual([
      '![Median HTTP requests per second](bench/results/latest.svg)',
      http,
      websocket,
      wsMemory,
    ]);
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
});
