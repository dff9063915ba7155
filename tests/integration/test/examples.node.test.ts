// Smoke tests of examples/ (plain HTML, React in StrictMode, Vue): each is built with Vite, served, and opened in
// Chromium against a real stream server playing a video that ffmpeg made. That video also has what the server adds
// after ready — a lower rendition (RENDITIONS=180 on a 360p source) and an English caption track — and each example
// must offer both: two qualities in the player, and the captions of `?captions=en` showing. That video is shared:
// the examples play it as a teammate whose token's `watch` claim grants it, not as its owner.
//
// Then every example plays in Chromium, Firefox, WebKit and WebKit with ManagedMediaSource forced as on an iPhone:
// through a copy of its page that first counts media sources and page errors, it plays, shows the captions, and a
// seek lands.
//
// The plain HTML example also gets a storyboard (made by ffmpeg) and a screenshot of its control bar with a seek
// preview, written to .tmp/controls.png — and to docs/player/controls.png with UPDATE_SCREENSHOT=1.
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createStreamClient } from '@notetaker/client-sdk';
import { createManagementClient } from '@notetaker/client-sdk/server';
import { startServer } from '@notetaker/stream-server';
import { chromiumLaunchOptions } from '@notetaker/test-support/chromium';
import { openEnginePage, type EnginePage } from '@notetaker/test-support/engine-page';
import { ENGINE_PARAM, HIDE_CLASSIC_MEDIA_SOURCE, selectedEngines } from '@notetaker/test-support/engines';
import { chromium, type Browser } from 'playwright-core';
import { build, preview } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeStoryboardFixture, runFfmpeg, testSourceArgs } from '@notetaker/test-support/media';

const here = path.dirname(fileURLToPath(import.meta.url));
const examplesDir = path.resolve(here, '../../../examples');
const tmpRoot = path.resolve(here, '../.tmp');

let server: Awaited<ReturnType<typeof startServer>>;
let browser: Browser;
/** The plain video (one rendition, no captions), for the screenshot. */
let query: string;
/** The video with a lower rendition and English captions, shown at start. */
let ladderQuery: string;
const CAPTION_TEXT = 'Captions from the stream server';
const cleanups: Array<() => Promise<unknown> | void> = [];

beforeAll(async () => {
  mkdirSync(tmpRoot, { recursive: true });
  const dir = mkdtempSync(path.join(tmpRoot, 'examples-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const source = path.join(dir, 'source.mp4');
  const source360 = path.join(dir, 'source-360p.mp4');
  await runFfmpeg([...testSourceArgs(6), source]);
  await runFfmpeg([
    ...testSourceArgs(6).map((arg) => arg.replace('size=320x180', 'size=640x360')),
    source360,
  ]);
  server = await startServer({
    env: { DATA_DIR: path.join(dir, 'data'), HOST: '127.0.0.1', PORT: '0', RENDITIONS: '180' },
    logger: 'silent',
  });
  cleanups.unshift(() => server.stop());
  const token = await server.mintUserToken('examples');
  const client = createStreamClient({ baseUrl: server.url, token });
  const [{ id }, ladder] = await Promise.all([
    server.importVideo(source, { ownerId: 'examples' }),
    server.importVideo(source360, { ownerId: 'examples' }),
  ]);
  await client.waitForStream(id, { timeout: 120_000 });
  await client.waitForStream(ladder.id, { timeout: 120_000 });
  const manage = createManagementClient({ baseUrl: server.url, apiKey: server.serviceApiKey });
  await manage.putCaption(ladder.id, 'en', `WEBVTT\n\n00:00.000 --> 00:05.900\n${CAPTION_TEXT}\n`);
  // The 180p rendition is made after ready: wait until the master playlist lists it.
  for (let variants = 0, deadline = Date.now() + 180_000; variants < 2;) {
    if (Date.now() > deadline) throw new Error('The 180p rendition was not made within 3 minutes');
    const answer = await client.getStream(ladder.id);
    const master = answer.status === 'ready' ? await (await fetch(answer.hls_url)).text() : '';
    variants = master.split('#EXT-X-STREAM-INF:').length - 1;
    if (variants < 2) await new Promise((resolve) => setTimeout(resolve, 250));
  }
  query = new URLSearchParams({ api: server.url, token, video: id }).toString();
  // A teammate who was in the meeting: not the owner, granted this one video by the token's watch claim.
  const teammate = await server.mintUserToken('teammate', 3600, [ladder.id]);
  ladderQuery = new URLSearchParams({
    api: server.url,
    token: teammate,
    video: ladder.id,
    captions: 'en',
  }).toString();
  browser = await chromium.launch(chromiumLaunchOptions());
  cleanups.unshift(() => browser.close());
}, 300_000);

afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
}, 60_000);

describe.each(['html', 'react', 'vue'])('examples/%s', (name) => {
  it('builds with hls.js in its own chunk, plays past 2 s after one /stream request with two qualities and the captions asked for, with one engine and no console errors', async () => {
    const root = path.join(examplesDir, name);
    const outDir = mkdtempSync(path.join(tmpRoot, `example-${name}-`));
    cleanups.push(() => rmSync(outDir, { recursive: true, force: true }));
    await build({ root, logLevel: 'silent', build: { outDir, emptyOutDir: true } });

    const assets = readdirSync(path.join(outDir, 'assets')).filter((file) => file.endsWith('.js'));
    const withHls = assets.filter((file) =>
      readFileSync(path.join(outDir, 'assets', file), 'utf8').includes('manifestLoadError'),
    );
    const withElement = assets.filter((file) =>
      readFileSync(path.join(outDir, 'assets', file), 'utf8').includes('notetaker-status'),
    );
    expect(withHls).toHaveLength(1);
    expect(withElement).toHaveLength(1);
    expect(withHls[0]).not.toBe(withElement[0]);

    const site = await preview({
      root,
      logLevel: 'silent',
      build: { outDir },
      preview: { port: 0, host: '127.0.0.1' },
    });
    const page = await browser.newPage();
    // Count MediaSource objects: hls.js makes one per attached instance, so more than one means a leaked or
    // duplicated engine (the classic React StrictMode double-mount bug).
    await page.addInitScript(() => {
      const Native = window.MediaSource;
      let created = 0;
      (window as unknown as { mediaSourcesCreated: () => number }).mediaSourcesCreated = () => created;
      window.MediaSource = class extends Native {
        constructor() {
          super();
          created += 1;
        }
      } as typeof MediaSource;
    });
    const consoleErrors: string[] = [];
    page.on('console', (message) => {
      // The browser's own favicon request is not the page's doing.
      if (message.type() === 'error' && !message.location().url.endsWith('/favicon.ico')) {
        consoleErrors.push(`${message.text()} (${message.location().url})`);
      }
    });
    page.on('pageerror', (error) => consoleErrors.push(error.message));
    try {
      const streamRequests: string[] = [];
      page.on('request', (request) => {
        if (request.url().endsWith('/stream') && request.method() === 'GET')
          streamRequests.push(request.url());
      });
      await page.goto(`${site.resolvedUrls!.local[0]}?${ladderQuery}`);
      await page.waitForFunction(
        () => (document.querySelector('notetaker-player')?.currentTime ?? 0) > 2,
        undefined,
        {
          timeout: 60_000,
        },
      );
      expect(await page.locator('output').textContent()).toBe('playing');
      expect(streamRequests).toHaveLength(1);
      expect(await page.evaluate(() => document.querySelector('notetaker-player')!.state)).toBe('ready');
      expect(
        await page.evaluate(() =>
          (window as unknown as { mediaSourcesCreated: () => number }).mediaSourcesCreated(),
        ),
      ).toBe(1);
      expect(await page.locator('notetaker-player').count()).toBe(1);
      expect(await page.locator('notetaker-player [part~=controls]').count()).toBe(1);
      // What the server made after ready: the 180p rendition beside the source, and the English captions shown
      // because the page asked for them (`default-captions`).
      const heights = await page.evaluate(() =>
        document.querySelector('notetaker-player')!.qualityLevels.map((level) => level.height),
      );
      expect(heights.sort((a, b) => b - a)).toEqual([360, 180]);
      expect(await page.evaluate(() => document.querySelector('notetaker-player')!.captionTracks)).toEqual([
        { label: 'English', language: 'en' },
      ]);
      await page.waitForFunction(
        (text) => {
          const player = document.querySelector('notetaker-player')!;
          if (player.currentTime > 5.5) player.currentTime = 1; // the cue ends at 5.9 s
          return [...player.media.textTracks].some(
            (track) =>
              track.mode === 'showing' &&
              [...(track.activeCues ?? [])].some((cue) => (cue as VTTCue).text === text),
          );
        },
        CAPTION_TEXT,
        { timeout: 20_000 },
      );
      expect(await page.evaluate(() => document.querySelector('notetaker-player')!.captionTrack)).toBe(0);
      // The notes list beside the player: a marker per note on the seek bar, and a click on a note seeks there.
      expect(await page.locator('notetaker-player [part~=marker]').count()).toBe(3);
      await page.evaluate(() => document.querySelector('notetaker-player')!.pause());
      await page.locator('.notes button', { hasText: 'Agenda' }).click();
      await page.waitForFunction(
        () => Math.abs(document.querySelector('notetaker-player')!.media.currentTime - 3) < 0.3,
        undefined,
        { timeout: 20_000 },
      );
      expect(consoleErrors).toEqual([]);
    } finally {
      await page.close();
      await site.close();
    }
  }, 120_000);
});

describe('examples/html control bar', () => {
  it('shows the control bar with a storyboard thumbnail over the seek bar', async () => {
    const root = path.join(examplesDir, 'html');
    const outDir = mkdtempSync(path.join(tmpRoot, 'example-screenshot-'));
    cleanups.push(() => rmSync(outDir, { recursive: true, force: true }));
    await build({ root, logLevel: 'silent', build: { outDir, emptyOutDir: true } });
    // The source is 6 s of the same test pattern: a storyboard made the fixtures' way matches it.
    await makeStoryboardFixture(path.join(outDir, 'storyboard'), 6);
    const site = await preview({
      root,
      logLevel: 'silent',
      build: { outDir },
      preview: { port: 0, host: '127.0.0.1' },
    });
    const page = await browser.newPage({ viewport: { width: 880, height: 640 } });
    try {
      await page.goto(`${site.resolvedUrls!.local[0]}?${query}&storyboard=/storyboard/storyboard.vtt`);
      await page.waitForFunction(
        () => (document.querySelector('notetaker-player')?.currentTime ?? 0) > 1,
        undefined,
        { timeout: 60_000 },
      );
      // Paused at 2.2 s, with the frame of 2.2 s on screen.
      await page.evaluate(async () => {
        const player = document.querySelector('notetaker-player')!;
        player.pause();
        player.muted = false;
        player.volume = 0.8;
        const presented = new Promise((resolve) => player.media.requestVideoFrameCallback(resolve));
        player.currentTime = 2.2;
        await presented;
      });
      const player = page.locator('notetaker-player');
      const box = (await player.locator('[part~=seek-bar]').boundingBox())!;
      await page.mouse.move(box.x + box.width * 0.7, box.y + box.height / 2);
      await player.locator('[part~=preview-image]').waitFor();
      expect(await player.locator('[part~=preview-time]').textContent()).toBe('0:04');
      expect(await player.locator('[part~=play-button]').getAttribute('aria-label')).toBe('Play');
      const file = path.join(tmpRoot, 'controls.png');
      writeFileSync(file, await player.screenshot({ animations: 'disabled' }));
      if (process.env.UPDATE_SCREENSHOT === '1') {
        copyFileSync(file, path.resolve(here, '../../../docs/player/controls.png'));
      }
    } finally {
      await page.close();
      await site.close();
    }
  }, 120_000);
});

/**
 * What the engine smoke page runs before the example's modules: in `webkit-mms` it hides the classic `MediaSource`;
 * it counts the media sources made (of either kind), records page errors, and logs the media sources and the
 * player's events with the time they came, for a failure to show what made a second media source.
 */
const SMOKE_PRELUDE = `<script>
  if (new URLSearchParams(location.search).get(${JSON.stringify(ENGINE_PARAM)}) === 'webkit-mms') {
    ${HIDE_CLASSIC_MEDIA_SOURCE}
  }
  window.smoke = { mediaSources: [], errors: [], log: [] };
  const note = (what) => {
    const player = document.querySelector('notetaker-player');
    const at = player?.media ? player.media.currentTime.toFixed(2) + ' s' : 'no media';
    window.smoke.log.push(Math.round(performance.now()) + ' ms, at ' + at + ': ' + what);
  };
  for (const name of ['MediaSource', 'ManagedMediaSource']) {
    const Native = window[name];
    if (!Native) continue;
    const Counted = class extends Native {
      constructor() {
        super();
        window.smoke.mediaSources.push(name);
        note('new ' + name);
      }
    };
    Object.defineProperty(Counted, 'name', { value: name });
    window[name] = Counted;
  }
  for (const type of ['notetaker-status', 'notetaker-error', 'notetaker-trackschange']) {
    window.addEventListener(type, (event) => note(type + ' ' + JSON.stringify(event.detail)), true);
  }
  window.addEventListener('error', (event) => window.smoke.errors.push(String(event.message)));
  window.addEventListener('unhandledrejection', (event) => window.smoke.errors.push(String(event.reason)));
</script>`;

/** Builds each example once for the engine smoke tests, with a `smoke.html` beside its `index.html`. */
const smokeSites = new Map<string, Promise<string>>();
function smokeSite(name: string): Promise<string> {
  let site = smokeSites.get(name);
  if (!site) {
    site = (async () => {
      const root = path.join(examplesDir, name);
      const outDir = mkdtempSync(path.join(tmpRoot, `example-smoke-${name}-`));
      cleanups.push(() => rmSync(outDir, { recursive: true, force: true }));
      await build({ root, logLevel: 'silent', build: { outDir, emptyOutDir: true } });
      const index = readFileSync(path.join(outDir, 'index.html'), 'utf8');
      writeFileSync(path.join(outDir, 'smoke.html'), index.replace('<head>', `<head>${SMOKE_PRELUDE}`));
      const server = await preview({
        root,
        logLevel: 'silent',
        build: { outDir },
        preview: { port: 0, host: '127.0.0.1' },
      });
      cleanups.unshift(() => server.close());
      return server.resolvedUrls!.local[0]!;
    })();
    smokeSites.set(name, site);
  }
  return site;
}

interface SmokeState {
  state: string;
  time: number;
  seeking: boolean;
  mediaSources: string[];
  errors: string[];
  log: string[];
  heights: number[];
}

/**
 * Every engine of the run, WebKit with ManagedMediaSource forced included: the captions come from the stream's
 * subtitle rendition, whose cues the player puts into text tracks of its own (hls.js's own tracks lost them in
 * WebKit, see packages/player-element/src/engine/subtitle-text-tracks.ts).
 */
const SMOKE_ENGINES = selectedEngines();

describe.each(SMOKE_ENGINES)('examples in %s', (engine) => {
  let page: EnginePage;
  beforeAll(async () => {
    page = await openEnginePage(engine);
  }, 120_000);
  afterAll(async () => {
    await page?.close();
  });

  it.each(['html', 'react', 'vue'])(
    '%s plays through one media source of the engine, shows the captions asked for, and a seek lands',
    async (name) => {
      const base = await smokeSite(name);
      await page.goto(`${base}smoke.html?${ladderQuery}&${ENGINE_PARAM}=${engine}`);
      const read = () =>
        page.evaluate((): SmokeState => {
          const player = document.querySelector('notetaker-player')!;
          const { smoke } = window as unknown as {
            smoke: { mediaSources: string[]; errors: string[]; log: string[] };
          };
          return {
            state: player.state,
            time: player.currentTime,
            seeking: player.media.seeking,
            mediaSources: smoke.mediaSources,
            errors: smoke.errors,
            log: smoke.log,
            heights: player.qualityLevels.map((level) => level.height).sort((a, b) => b - a),
          };
        });
      await page.waitFor(
        () => (document.querySelector('notetaker-player')?.currentTime ?? 0) > 2,
        undefined,
        {
          timeoutMs: 60_000,
          message: `${name} playing past 2 s`,
        },
      );
      const playing = await read();
      expect(playing.state).toBe('ready');
      // WebKit with the classic MediaSource hidden plays as an iPhone does, through ManagedMediaSource.
      expect(playing.mediaSources, playing.log.join('\n')).toEqual([
        engine === 'webkit-mms' ? 'ManagedMediaSource' : 'MediaSource',
      ]);
      expect(playing.heights).toEqual([360, 180]);
      await page
        .waitFor(
          (text) => {
            const player = document.querySelector('notetaker-player')!;
            if (player.currentTime > 5.5) player.currentTime = 1; // the cue ends at 5.9 s
            return [...player.media.textTracks].some(
              (track) =>
                track.mode === 'showing' &&
                [...(track.activeCues ?? [])].some((cue) => (cue as VTTCue).text === text),
            );
          },
          CAPTION_TEXT,
          { timeoutMs: 20_000, message: 'the captions showing' },
        )
        .catch(async (error: Error) => {
          const tracks = await page.evaluate(() => {
            const { media } = document.querySelector('notetaker-player')!;
            return {
              time: media.currentTime,
              paused: media.paused,
              tracks: [...media.textTracks].map((t) => [t.kind, t.label, t.mode, t.cues?.length ?? null]),
            };
          });
          throw new Error(`${error.message}: ${JSON.stringify(tracks)}`);
        });
      await page.evaluate(() => {
        const player = document.querySelector('notetaker-player')!;
        player.pause();
        player.currentTime = 4.5;
      });
      await page.waitFor(
        () => {
          const player = document.querySelector('notetaker-player')!;
          return !player.media.seeking && Math.abs(player.media.currentTime - 4.5) < 0.3;
        },
        undefined,
        { timeoutMs: 20_000, message: 'the seek to 4.5 s landing' },
      );
      const after = await read();
      expect(after.state).toBe('ready');
      expect(after.mediaSources, after.log.join('\n')).toHaveLength(1);
      expect(after.errors).toEqual([]);
    },
    120_000,
  );
});
