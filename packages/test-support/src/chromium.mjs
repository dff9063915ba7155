// The one place the tests (and the bench) say how to start the system Chromium: never a downloaded browser, no
// background traffic, no sandbox (tests run as root in CI), and videos that play without a click.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { chromium } from 'playwright-core';

/** The system Chromium, or `CHROMIUM_PATH`. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Flags for every headless Chromium the tests start. */
export const CHROMIUM_ARGS = Object.freeze([
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--autoplay-policy=no-user-gesture-required',
]);

/** Playwright launch options for the system Chromium (also what web-test-runner's playwrightLauncher takes). */
export function chromiumLaunchOptions(executablePath = CHROMIUM_PATH) {
  return { executablePath, headless: true, args: [...CHROMIUM_ARGS] };
}

/** A headless system Chromium in a throwaway profile, removed by `close()`. */
export async function launchChromium({
  executablePath = CHROMIUM_PATH,
  profilePrefix = 'notetaker-chromium-',
} = {}) {
  const profile = await fs.mkdtemp(path.join(os.tmpdir(), profilePrefix));
  const context = await chromium.launchPersistentContext(profile, chromiumLaunchOptions(executablePath));
  return {
    context,
    async close() {
      await context.close().catch(() => {});
      await fs.rm(profile, { recursive: true, force: true });
    },
  };
}
