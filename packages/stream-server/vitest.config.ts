import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two files at a time: most of a file's time is spent waiting (on ffmpeg run at real-time speed, leases,
    // retries, a browser playing), and every file has its own servers, databases, buckets and folders. Files
    // measured one after another and two at a time took almost the same time each, so the run takes about half.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
