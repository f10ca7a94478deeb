import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KEY_SPECS, writtenName } from '../../src/config';

const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
const rows = readme
  .split('\n')
  .filter((line) => line.startsWith('|'))
  .map((line) => line.split('|').map((cell) => cell.trim()));

describe('README configuration table', () => {
  it.each(KEY_SPECS.map((spec) => [writtenName(spec), spec] as const))(
    'documents %s with its sections, default and origin',
    (name, spec) => {
      const sections = spec.sections.join(', ');
      const row = rows.find((cells) => cells[2] === `\`${name}\`` && cells[1] === sections);
      expect(row).toBeDefined();
      const documentedDefault =
        spec.defaultText === undefined
          ? spec.scope === 'server'
            ? '—'
            : 'required'
          : `\`${spec.defaultText}\``;
      expect(row?.[3]).toBe(documentedDefault);
      expect(row?.[5]).toBe(spec.origin);
    },
  );
});
