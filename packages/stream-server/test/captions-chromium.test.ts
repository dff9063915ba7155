import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { launchChromium, serveFiles } from './helpers/chromium.js';
import { makeTestMedia } from './helpers/media.js';
import { api, startTestServer, VARIANTS, waitForStream, type TestServer } from './helpers/test-server.js';

const require = createRequire(import.meta.url);

// Plays a master playlist in hls.js with its subtitle track shown, and reports the text tracks, their cues (as hls.js
// placed them on the media timeline) and the media time at which each cue became active.
const PAGE = `<!doctype html><html><body><video id="v" muted playsinline></video>
<script src="/hls.js"></script>
<script>
  window.play = (url) => new Promise((resolve, reject) => {
    const video = document.getElementById('v');
    const hls = new Hls({ startPosition: 0 });
    const activated = [];
    video.textTracks.addEventListener('addtrack', (event) => {
      const track = event.track;
      track.addEventListener('cuechange', () => {
        for (const cue of track.activeCues ?? []) {
          if (!activated.some((a) => a.text === cue.text)) activated.push({ text: cue.text, at: video.currentTime });
        }
      });
    });
    hls.on(Hls.Events.ERROR, (_, data) => { if (data.fatal) reject(new Error(data.type + ': ' + data.details)); });
    // No hls.subtitleTrack here: the DEFAULT=YES track must be picked by itself.
    hls.on(Hls.Events.MANIFEST_PARSED, () => video.play().catch(reject));
    video.addEventListener('ended', () => resolve({
      subtitleTracks: hls.subtitleTracks.map((t) => ({ name: t.name, lang: t.lang, default: t.default })),
      textTracks: [...video.textTracks].map((t) => ({
        kind: t.kind, language: t.language, label: t.label, mode: t.mode,
        cues: [...(t.cues ?? [])].map((c) => ({ text: c.text, start: c.startTime, end: c.endTime })),
      })),
      activated,
      duration: video.duration,
    }));
    hls.loadSource(url);
    hls.attachMedia(video);
  });
</script></body></html>`;

const CAPTIONS = 'WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nfirst\n\n00:00:04.000 --> 00:00:05.500\nsecond\n';

interface PlayResult {
  subtitleTracks: Array<{ name: string; lang: string; default: boolean }>;
  textTracks: Array<{
    kind: string;
    language: string;
    label: string;
    mode: string;
    cues: Array<{ text: string; start: number; end: number }>;
  }>;
  activated: Array<{ text: string; at: number }>;
  duration: number;
}

describe.each(VARIANTS)('captions in Chromium with hls.js (%s)', (variant) => {
  let server: TestServer;
  let mediaDir: string;
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  let host: Awaited<ReturnType<typeof serveFiles>> | undefined;

  beforeAll(async () => {
    mediaDir = await fs.mkdtemp(path.join(os.tmpdir(), 'notetaker-media-'));
    server = await startTestServer(variant);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await host?.close();
    await server?.close();
    await fs.rm(mediaDir, { recursive: true, force: true });
  });

  it('plays hls_url (a master playlist with a subtitles group) and activates its cues on time', async () => {
    const file = await makeTestMedia(mediaDir, 'h264-aac-faststart', { seconds: 8 });
    const { id } = await server.importVideo(file, { ownerId: 'alice' });
    const alice = api(server, await server.mintUserToken('alice'));
    const put = await alice(`/api/videos/${id}/captions/en?default=true`, {
      method: 'PUT',
      body: CAPTIONS,
      headers: { 'content-type': 'text/vtt' },
    });
    expect(put.status).toBe(201);
    await alice(`/api/videos/${id}/stream`);
    const { body } = await waitForStream(alice, id);
    expect(body['status']).toBe('ready');
    // With a caption track, hls_url is the server's master playlist: the source rendition plus a SUBTITLES group.
    const hlsUrl = body['hls_url'] as string;
    expect(new URL(hlsUrl).pathname).toBe(`/api/videos/${id}/master.m3u8`);
    host = await serveFiles({
      '/': { type: 'text/html', body: PAGE },
      '/hls.js': {
        type: 'text/javascript',
        body: await fs.readFile(require.resolve('hls.js/dist/hls.min.js')),
      },
    });

    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(host.url);
    const result = (await page.evaluate((url) => (window as any).play(url), hlsUrl)) as PlayResult;
    await page.close();

    expect(result.duration).toBeCloseTo(8, 0);
    expect(result.subtitleTracks).toEqual([{ name: 'English', lang: 'en', default: true }]);
    const track = result.textTracks.find((t) => t.language === 'en');
    expect(track).toMatchObject({ kind: 'subtitles', label: 'English', mode: 'showing' });
    // Cue times as hls.js placed them: the timestamp map makes cue time 0 the video's first frame.
    expect(track!.cues.map((c) => c.text)).toEqual(['first', 'second']);
    expect(track!.cues[0]!.start).toBeCloseTo(1, 1);
    expect(track!.cues[1]!.start).toBeCloseTo(4, 1);
    expect(track!.cues[1]!.end).toBeCloseTo(5.5, 1);
    // And while playing, each cue became active within half a second of its time.
    const at = (text: string) => result.activated.find((a) => a.text === text)?.at;
    expect(Math.abs(at('first')! - 1)).toBeLessThan(0.5);
    expect(Math.abs(at('second')! - 4)).toBeLessThan(0.5);
    expect(errors).toEqual([]);
  });
});
