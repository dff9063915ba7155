import { defineConfig } from 'vitest/config';

// Node-side tests only; the element's tests run in Chromium through web-test-runner.config.mjs.
export default defineConfig({
  test: { include: ['test/**/*.node.test.ts'], testTimeout: 20_000 },
});
