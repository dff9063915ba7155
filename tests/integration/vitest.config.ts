import { defineConfig } from 'vitest/config';

// Node-side tests (the SDK's contract, the examples, the web page); the player's tests against a real server run in
// Chromium through web-test-runner.config.mjs.
export default defineConfig({
  test: {
    include: ['test/**/*.node.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Every file starts its own real server with ffmpeg (and most a browser) on its own port and folder. Two files at
    // a time: most of their time is spent waiting on playback and generation, not computing.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
