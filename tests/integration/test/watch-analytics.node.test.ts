// Watch analytics end to end: the plain HTML example (built with Vite) plays a video from a real stream server in
// Chromium — 5 s, back to 2 s, on again —, then the page is closed: the player's last report (sendBeacon on page hide)
// must be in the owner's analytics with the seconds watched and watched again.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createStreamClient } from '@notetaker/client-sdk';
import { createManagementClient } from '@notetaker/client-sdk/server';
import { startServer } from '@notetaker/stream-server';
import { chromiumLaunchOptions } from '@notetaker/test-support/chromium';
import { runFfmpeg, testSourceArgs } from '@notetaker/test-support/media';
import { chromium, type Browser } from 'playwright-core';
import { build, preview } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const here = path.dirname(fileURLToPath(import.meta.url));
const exampleDir = path.resolve(here, '../../../examples/html');
const tmpRoot = path.resolve(here, '../.tmp');

let server: Awaited<ReturnType<typeof startServer>>;
let browser: Browser;
let site: Awaited<ReturnType<typeof preview>>;
let videoId: string;
let token: string;
const cleanups: Array<() => Promise<unknown> | void> = [];

interface Analytics {
  views: number;
  watch_time_seconds: number;
  retention: number[];
  rewind_hotspots: Array<{ second: number; sessions: number }>;
  startup_ms: { median: number | null };
  failure_rate: number | null;
}

beforeAll(async () => {
  mkdirSync(tmpRoot, { recursive: true });
  const dir = mkdtempSync(path.join(tmpRoot, 'analytics-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const source = path.join(dir, 'source.mp4');
  await runFfmpeg([...testSourceArgs(12), source]);
  server = await startServer({
    env: { DATA_DIR: path.join(dir, 'data'), HOST: '127.0.0.1', PORT: '0', WORKER_TASK_CONCURRENCY: '0' },
    logger: 'silent',
  });
  cleanups.unshift(() => server.stop());
  token = await server.mintUserToken('viewer');
  videoId = (await server.importVideo(source, { ownerId: 'viewer' })).id;
  await createStreamClient({ baseUrl: server.url, token }).waitForStream(videoId, { timeout: 120_000 });
  // Chapters too, for the screenshot of the seek bar with chapters and the example's note markers.
  await createManagementClient({ baseUrl: server.url, apiKey: server.serviceApiKey }).putChapters(videoId, [
    { start_seconds: 0, title: 'Welcome' },
    { start_seconds: 4, title: 'Budget review' },
    { start_seconds: 8, title: 'Next steps' },
  ]);
  const outDir = path.join(dir, 'site');
  await build({ root: exampleDir, logLevel: 'silent', build: { outDir, emptyOutDir: true } });
  site = await preview({
    root: exampleDir,
    logLevel: 'silent',
    build: { outDir },
    preview: { port: 0, host: '127.0.0.1' },
  });
  cleanups.unshift(() => site.close());
  browser = await chromium.launch(chromiumLaunchOptions());
  cleanups.unshift(() => browser.close());
}, 300_000);

afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
}, 60_000);

const analytics = async (): Promise<Analytics> => {
  const response = await fetch(`${server.url}/api/manage/videos/${videoId}/analytics`, {
    headers: { authorization: `Bearer ${server.serviceApiKey}` },
  });
  expect(response.status).toBe(200);
  return (await response.json()) as Analytics;
};

/**
 * The paused player with its chapters and the example's note markers, the label of one shown, written to
 * .tmp/chapters-markers.png — and to docs/player/chapters-markers.png with UPDATE_SCREENSHOT=1.
 */
async function screenshotChaptersAndMarkers(page: import('playwright-core').Page): Promise<void> {
  await page.setViewportSize({ width: 900, height: 520 });
  await page.waitForFunction('document.querySelector("notetaker-player").chapters.length === 3');
  await page.evaluate('document.querySelector("notetaker-player").pause()');
  await page.locator('notetaker-player [part~=marker]').nth(1).hover();
  const file = path.join(tmpRoot, 'chapters-markers.png');
  await page.locator('.layout').screenshot({ path: file });
  if (process.env['UPDATE_SCREENSHOT']) {
    copyFileSync(file, path.resolve(here, '../../../docs/player/chapters-markers.png'));
  }
  await page.evaluate('document.querySelector("notetaker-player").play()');
}

describe('watch analytics in Chromium', () => {
  it('play 5 s, seek back to 2 s, play again, close the page: the session has the seconds watched and rewound', async () => {
    const page = await browser.newPage();
    const query = new URLSearchParams({ api: server.url, token, video: videoId });
    await page.goto(`${site.resolvedUrls!.local[0]}?${query}`);
    const player = 'document.querySelector("notetaker-player")';
    await page.waitForFunction(`${player}.media.currentTime > 5.2`, undefined, { timeout: 60_000 });
    await page.evaluate(`(async () => {
      const player = ${player};
      // Paused first (its event records where it stopped: a seek in the same task would move that position first).
      const paused = new Promise((resolve) => player.media.addEventListener('pause', resolve, { once: true }));
      player.pause();
      await paused;
      player.currentTime = 2;
      await new Promise((resolve) => player.media.addEventListener('seeked', resolve, { once: true }));
      await player.play();
    })()`);
    await page.waitForFunction(`${player}.media.currentTime > 4.6`, undefined, { timeout: 30_000 });
    expect(await (await analytics()).views).toBe(0); // nothing reported yet: the periodic flush is every 30 s
    await screenshotChaptersAndMarkers(page);
    await page.close({ runBeforeUnload: true });

    let result = await analytics();
    for (const deadline = Date.now() + 15_000; result.views === 0 && Date.now() < deadline;) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      result = await analytics();
    }
    expect(result.views).toBe(1);
    // Seconds 0–5 once (the first 5 s, up to where it was paused), then 2–4 again.
    expect(result.watch_time_seconds).toBeGreaterThanOrEqual(6);
    expect(result.watch_time_seconds).toBeLessThanOrEqual(7);
    expect(result.retention.slice(0, 6)).toEqual([1, 1, 1, 1, 1, 1]);
    expect(result.retention.slice(8)).toEqual([0, 0, 0, 0]);
    const rewound = result.rewind_hotspots.map((hotspot) => hotspot.second).sort((a, b) => a - b);
    expect(rewound.slice(0, 3)).toEqual([2, 3, 4]);
    expect(rewound.every((second) => second >= 2 && second <= 5)).toBe(true);
    expect(result.startup_ms.median).toBeGreaterThan(0);
    expect(result.failure_rate).toBe(0);
  }, 120_000);
});
