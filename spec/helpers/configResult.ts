import { formatProblem, type Config, type ConfigResult } from '../../src/config';

/** The config of a valid result; otherwise fails the test with the problems listed. */
export function expectConfig(result: ConfigResult): Config {
  if (!result.ok) throw new Error(result.problems.map(formatProblem).join('\n'));
  return result.config;
}

/** The problems of an invalid result, formatted as the proxy prints them. */
export function problemLines(result: ConfigResult): string[] {
  if (result.ok) throw new Error('expected problems');
  return result.problems.map(formatProblem);
}
