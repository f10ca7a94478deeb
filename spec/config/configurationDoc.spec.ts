import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KEY_SPECS, writtenName, type KeySpec } from '../../src/config';

const KEY_TABLE_HEADER = ['section', 'key', 'default', 'unit', 'origin', 'meaning'];

/** The cells of a Markdown table row, without the empty ends; `\|` stays inside its cell. */
function cells(line: string): string[] {
  return line
    .trim()
    .replace(/^\||\|$/g, '')
    .split(/(?<!\\)\|/)
    .map((cell) => cell.trim());
}

/** The body rows of every table whose header is the key table's. */
function keyRows(markdown: string): string[][] {
  const rows: string[][] = [];
  let inKeyTable = false;
  let previous = '';
  for (const line of markdown.split('\n')) {
    if (!line.startsWith('|')) {
      inKeyTable = false;
    } else if (/^\|[\s|:-]+\|$/.test(line)) {
      inKeyTable = cells(previous).join() === KEY_TABLE_HEADER.join();
    } else if (inKeyTable) {
      rows.push(cells(line));
    }
    previous = line;
  }
  return rows;
}

const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'configuration.md'), 'utf8');
const rows = keyRows(doc);
const keyCell = (spec: KeySpec): string => `\`${writtenName(spec)}\``;
const sectionsCell = (spec: KeySpec): string => spec.sections.join(', ');
const documents = (row: string[], spec: KeySpec): boolean =>
  row[1] === keyCell(spec) && row[0] === sectionsCell(spec);

describe('docs/configuration.md key tables', () => {
  it('has key tables with six cells in every row', () => {
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(row).toHaveLength(KEY_TABLE_HEADER.length);
  });

  it.each(KEY_SPECS.map((spec) => [writtenName(spec), spec] as const))(
    'documents %s with its sections, default and origin',
    (_name, spec) => {
      const row = rows.find((cells) => documents(cells, spec));
      expect(row).toBeDefined();
      const documentedDefault =
        spec.defaultText === undefined
          ? spec.scope === 'server' || spec.scope === 'numbered'
            ? '—'
            : 'required'
          : spec.defaultText === ''
            ? 'empty'
            : `\`${spec.defaultText}\``;
      expect(row?.[2]).toBe(documentedDefault);
      expect(row?.[4]).toBe(spec.origin);
    },
  );

  it('names only keys that exist, each once', () => {
    const unknown = rows
      .filter((row) => !KEY_SPECS.some((spec) => documents(row, spec)))
      .map((row) => `[${row[0]}] ${row[1]}`);
    expect(unknown).toEqual([]);
    const documented = rows.map((row) => `[${row[0]}] ${row[1]}`);
    expect(new Set(documented).size).toBe(documented.length);
  });
});
