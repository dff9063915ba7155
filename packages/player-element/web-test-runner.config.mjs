// Browser tests of <notetaker-player> in the system Chromium.
import { playwrightLauncher } from '@web/test-runner-playwright';
import { esbuildTypeScript } from './test/support/esbuild-typescript-plugin.mjs';
import { flakyHlsMiddleware, mediaFixtures } from './test/support/media-fixtures-plugin.mjs';
import { streamServerFixtures } from './test/support/stream-server-plugin.mjs';

const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export default {
  files: ['test/**/*.test.ts', '!test/**/*.node.test.ts'],
  nodeResolve: { exportConditions: ['production'] },
  concurrency: 1,
  // The stream server starts with the runner (PGlite + ffmpeg): give the whole run room on a busy machine.
  testsFinishTimeout: 10 * 60_000,
  browserStartTimeout: 120_000,
  testsStartTimeout: 120_000,
  testFramework: { config: { timeout: 20000 } },
  browsers: [
    playwrightLauncher({
      product: 'chromium',
      launchOptions: {
        executablePath: chromiumPath,
        headless: true,
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--no-first-run',
          '--disable-quic',
          '--autoplay-policy=no-user-gesture-required',
        ],
      },
    }),
  ],
  middleware: [flakyHlsMiddleware()],
  plugins: [esbuildTypeScript(), mediaFixtures(), streamServerFixtures()],
};
