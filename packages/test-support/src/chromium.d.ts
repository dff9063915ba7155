import type { BrowserContext } from 'playwright-core';

/** The system Chromium, or `CHROMIUM_PATH`. */
export declare const CHROMIUM_PATH: string;
/** Flags for every headless Chromium the tests start. */
export declare const CHROMIUM_ARGS: readonly string[];
/** Playwright launch options for the system Chromium (also what web-test-runner's playwrightLauncher takes). */
export declare function chromiumLaunchOptions(executablePath?: string): {
  executablePath: string;
  headless: true;
  args: string[];
};
/** A headless system Chromium in a throwaway profile, removed by `close()`. */
export declare function launchChromium(options?: {
  executablePath?: string;
  profilePrefix?: string;
}): Promise<{ context: BrowserContext; close(): Promise<void> }>;
