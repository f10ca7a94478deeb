import type { ConfigProblem } from './types';

/** INI parsers keep the last of repeated keys silently; we report them instead. */
export function findDuplicateKeys(text: string, file: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const firstLine = new Map<string, number>();
  let section = '';
  text.split(/\r?\n/).forEach((rawLine, index) => {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
    const header = /^\[(.*)\]$/.exec(line);
    if (header) {
      section = (header[1] ?? '').trim();
      return;
    }
    const key = line.split('=')[0]?.trim() ?? '';
    if (key === '' || key.endsWith('[]')) return;
    const id = `${section}\u0000${key}`;
    const first = firstLine.get(id);
    if (first === undefined) {
      firstLine.set(id, index + 1);
    } else {
      problems.push({
        file,
        section: section === '' ? undefined : section,
        key,
        message: `set again on line ${index + 1} (first on line ${first}); keep one`,
      });
    }
  });
  return problems;
}
