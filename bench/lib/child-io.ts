// Helpers for the benchmark's own child processes (backends, Node peers, WebSocket clients):
// they talk to the harness by JSON lines on stdout and commands on stdin, and exit when the
// harness goes away (stdin ends), so no process outlives a harness that was killed.

import { createInterface } from 'node:readline';

/** Writes one JSON line to stdout for the harness. */
export function report(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/**
 * Calls `onCommand` for every line the harness writes to stdin, and `onEnd` once stdin closes
 * or SIGTERM/SIGINT arrives (default: exit 0).
 */
export function listen(
  onCommand: (line: string) => void,
  onEnd: () => void = () => process.exit(0),
): void {
  let ended = false;
  const end = (): void => {
    if (ended) return;
    ended = true;
    onEnd();
  };
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => onCommand(line.trim()));
  lines.on('close', end);
  process.on('SIGTERM', end);
  process.on('SIGINT', end);
}

/** `--name value` from argv, or the default. */
export function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? process.argv[i + 1] : undefined;
  return value ?? fallback;
}

export function numArg(name: string, fallback: number): number {
  const value = Number(arg(name, String(fallback)));
  if (!Number.isFinite(value)) throw new Error(`--${name} must be a number`);
  return value;
}
