import { defineConfig } from 'vitest/config';

// Unit tests against a mocked API (msw) and a fake clock; the SDK against a real server: tests/integration.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
  },
});
