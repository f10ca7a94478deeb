import type { HeaderMap } from '../hooks/types';

/** A header to set; an empty value removes the header. */
export type HeaderEdit = readonly [name: string, value: string];

/** Header edits with their names lower-cased once, at start-up. */
export type HeaderEdits = readonly HeaderEdit[];

export function normalizeHeaderEdits(edits: readonly HeaderEdit[]): HeaderEdits {
  return edits.map(([name, value]) => [name.toLowerCase(), value] as const);
}

/** Sets (replaces) or removes each header in order, so a later edit of a name wins. */
export function applyHeaderEdits(headers: HeaderMap, edits: HeaderEdits): void {
  for (const [name, value] of edits) {
    if (value === '') {
      delete headers[name];
    } else {
      headers[name] = value;
    }
  }
}
