// <notetaker-player> against real stream servers (see test/support/stream-server-plugin.mjs), in every engine (see
// @notetaker/test-support/web-test-runner-engines), two engines at a time, one file at a time in each (decision 0033):
// every engine's run gets its own videos to change from the servers. NOTETAKER_ENGINES narrows a local run.
//
// WebKit with ManagedMediaSource forced (the iPhone path) runs the files whose media pipeline differs by media
// source: a playlist growing until EXT-X-ENDLIST, and a ladder switched between renditions with the stream's
// captions. The rest (tokens, reloads, the element's life cycle) would repeat the WebKit run.
import { defaultReporter } from '@web/test-runner';
import {
  browserRunReporter,
  engineRuns,
  engineTestRunnerHtml,
} from '@notetaker/test-support/web-test-runner-engines';
import { esbuildTypeScript } from '@notetaker/test-support/web-test-runner';
import { streamServerFixtures } from './test/support/stream-server-plugin.mjs';

export default {
  ...engineRuns({
    files: ['test/**/*.test.ts', '!test/**/*.node.test.ts'],
    managedMediaSourceFiles: ['test/player-growing-playlist.test.ts', 'test/player-ladder-captions.test.ts'],
  }),
  nodeResolve: { exportConditions: ['production'] },
  concurrency: 1,
  concurrentBrowsers: 2,
  // The stream servers start with the runner (PGlite + ffmpeg): give the whole run room on a busy machine.
  testsFinishTimeout: 20 * 60_000,
  browserStartTimeout: 120_000,
  testsStartTimeout: 120_000,
  testFramework: { config: { timeout: 20000 } },
  testRunnerHtml: engineTestRunnerHtml,
  // What `run-browser-tests` (the package's test script) reads: which files failed, and whether their page hung.
  reporters: [defaultReporter(), browserRunReporter()],
  plugins: [esbuildTypeScript(), streamServerFixtures()],
};
