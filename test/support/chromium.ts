/**
 * Debian's chromium for the browser tests (playwright-core drives it). Without it a suite is
 * skipped with a loud line on a developer's machine and fails in CI (CI=true), where a browser
 * test must run (scripts/install-chromium.sh installs it).
 */
import * as fs from 'fs';
import { Browser, chromium } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const inCi = process.env.CI === 'true';
export const haveChromium = fs.existsSync(CHROMIUM);

/** `describe` when chromium is there (or in CI, where launching it then fails), else `describe.skip` with a line saying so. */
export function describeInBrowser(what: string): jest.Describe {
  if (!haveChromium && !inCi) process.stderr.write(`\n*** SKIPPING ${what}: ${CHROMIUM} is missing (scripts/install-chromium.sh) ***\n\n`);
  return haveChromium || inCi ? describe : describe.skip;
}

/** Headless chromium; in CI a missing browser is an error that says so. */
export async function launchChromium(): Promise<Browser> {
  if (!haveChromium) throw new Error(`${CHROMIUM} is missing and CI=true: browser tests must run in a browser (run scripts/install-chromium.sh)`);
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}
