// <notetaker-player> in the system Chromium against real stream servers (see test/support/stream-server-plugin.mjs).
import { chromiumLaunchOptions } from '@notetaker/test-support/chromium';
import { esbuildTypeScript } from '@notetaker/test-support/web-test-runner';
import { playwrightLauncher } from '@web/test-runner-playwright';
import { streamServerFixtures } from './test/support/stream-server-plugin.mjs';

export default {
  files: ['test/**/*.test.ts', '!test/**/*.node.test.ts'],
  nodeResolve: { exportConditions: ['production'] },
  concurrency: 1,
  // The stream servers start with the runner (PGlite + ffmpeg): give the whole run room on a busy machine.
  testsFinishTimeout: 10 * 60_000,
  browserStartTimeout: 120_000,
  testsStartTimeout: 120_000,
  testFramework: { config: { timeout: 20000 } },
  browsers: [playwrightLauncher({ product: 'chromium', launchOptions: chromiumLaunchOptions() })],
  plugins: [esbuildTypeScript(), streamServerFixtures()],
};
