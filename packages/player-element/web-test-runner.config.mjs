// Browser tests of <notetaker-player> in the system Chromium.
import { playwrightLauncher } from '@web/test-runner-playwright';
import { esbuildTypeScript } from './test/support/esbuild-typescript-plugin.mjs';
import { mediaFixtures } from './test/support/media-fixtures-plugin.mjs';

const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export default {
  files: ['test/**/*.test.ts', '!test/**/*.node.test.ts'],
  nodeResolve: { exportConditions: ['production'] },
  concurrency: 1,
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
  plugins: [esbuildTypeScript(), mediaFixtures()],
};
