import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium (`apt-get install chromium`, see .ci/run); Playwright never downloads a browser here. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * One headless Chromium per test file (contexts per user are cheap). The flags keep it off the network
 * (this machine's is closed; without them Chromium tries Google's hosts at every start). Playwright
 * gives each launch a fresh, temporary user-data-dir of its own.
 */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 60_000,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
