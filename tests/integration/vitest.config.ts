import { defineConfig } from 'vitest/config';

// Node-side tests (the SDK's contract, the examples, the web page); the player's tests against a real server run in
// Chromium through web-test-runner.config.mjs.
export default defineConfig({
  test: {
    include: ['test/**/*.node.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Every file starts a real server with ffmpeg (and most a Chromium): one after another on two cores.
    fileParallelism: false,
  },
});
