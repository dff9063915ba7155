// Browser tests of <notetaker-player> in the system Chromium, on HLS fixtures made with ffmpeg and scripted /stream
// answers. Tests against a real stream server live in tests/integration.
import { chromiumLaunchOptions } from '@notetaker/test-support/chromium';
import { esbuildTypeScript } from '@notetaker/test-support/web-test-runner';
import { playwrightLauncher } from '@web/test-runner-playwright';
import { flakyHlsMiddleware, mediaFixtures } from './test/support/media-fixtures-plugin.mjs';

export default {
  files: ['test/**/*.test.ts', '!test/**/*.node.test.ts'],
  nodeResolve: { exportConditions: ['production'] },
  concurrency: 1,
  // The HLS fixtures are made with ffmpeg when the runner starts: give the whole run room on a busy machine.
  testsFinishTimeout: 10 * 60_000,
  browserStartTimeout: 120_000,
  testsStartTimeout: 120_000,
  testFramework: { config: { timeout: 20000 } },
  browsers: [
    playwrightLauncher({
      product: 'chromium',
      launchOptions: chromiumLaunchOptions(),
    }),
  ],
  middleware: [flakyHlsMiddleware()],
  plugins: [esbuildTypeScript(), mediaFixtures()],
};
