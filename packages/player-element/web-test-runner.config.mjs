// Browser tests of <notetaker-player> in every engine (Chromium, Firefox, WebKit with hls.js's default MediaSource
// and WebKit with ManagedMediaSource forced; see @notetaker/test-support/web-test-runner-engines), two engines at a
// time (decision 0033), on HLS fixtures made with ffmpeg and scripted /stream answers. Tests against a real stream
// server live in tests/integration. NOTETAKER_ENGINES=chromium,firefox narrows a local run.
//
// WebKit with ManagedMediaSource forced differs from WebKit only in the media source hls.js plays through: it runs
// the tests of the media pipeline (engine choice, hls.js loading, recovery, the stream's states, the seek
// watchdog), not every file again.
import { defaultReporter } from '@web/test-runner';
import {
  browserRunReporter,
  engineRuns,
  engineTestRunnerHtml,
} from '@notetaker/test-support/web-test-runner-engines';
import { esbuildTypeScript } from '@notetaker/test-support/web-test-runner';
import { flakyHlsMiddleware, mediaFixtures } from './test/support/media-fixtures-plugin.mjs';

export default {
  ...engineRuns({
    files: ['test/**/*.test.ts', '!test/**/*.node.test.ts'],
    managedMediaSourceFiles: [
      'test/choose-engine.test.ts',
      'test/lazy-hls.test.ts',
      'test/playback-engine.test.ts',
      'test/stream-controller.test.ts',
      'test/seek-watchdog.test.ts',
    ],
  }),
  nodeResolve: { exportConditions: ['production'] },
  concurrency: 1,
  concurrentBrowsers: 2,
  // The HLS fixtures are made with ffmpeg when the runner starts: give the whole run room on a busy machine.
  testsFinishTimeout: 20 * 60_000,
  browserStartTimeout: 120_000,
  testsStartTimeout: 120_000,
  testFramework: { config: { timeout: 20000 } },
  testRunnerHtml: engineTestRunnerHtml,
  // What `run-browser-tests` (the package's test script) reads: which files failed, and whether their page hung.
  reporters: [defaultReporter(), browserRunReporter()],
  middleware: [flakyHlsMiddleware()],
  plugins: [esbuildTypeScript(), mediaFixtures()],
};
