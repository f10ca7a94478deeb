import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/**
 * Debian's Chromium (.ci/run installs it), or the one CHROMIUM_PATH names; without it a browser
 * suite is reported as skipped, with the reason in its title (spec/skippedReporter.js lists it).
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const hasChromium = existsSync(CHROMIUM);

/** `describe`, or `describe.skip` with the reason in the title when Chromium is missing. */
export function browserSuite(title: string, body: () => void): void {
  if (hasChromium) describe(title, body);
  else
    describe.skip(
      `${title} (Chromium missing: ${CHROMIUM} not found; apt-get install chromium)`,
      body,
    );
}

/** Chromium with the suite's arguments, then `extraArgs`. */
export function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, ...extraArgs] });
}
