import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Contract tests start a real server with ffmpeg: keep files one after another on two cores.
    fileParallelism: false,
  },
});
