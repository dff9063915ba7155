import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { parseHlsPlaylist } from '../src/media/hls-playlist.js';
import { listVideoTasks } from '../src/tasks/video-tasks-repository.js';
import { findVideo } from '../src/videos/videos-repository.js';
import { launchChromium, serveFiles } from './helpers/chromium.js';
import { probeHlsDuration, segmentUris } from './helpers/hls.js';
import { makeTestMedia } from './helpers/media.js';
import {
  api,
  startTestServer,
  VARIANTS,
  waitForReadyWith,
  waitForStream,
  type TestServer,
} from './helpers/test-server.js';

const require = createRequire(import.meta.url);
const SECONDS = 10;

interface Variant {
  attributes: Record<string, string>;
  url: string;
}

/** The `#EXT-X-STREAM-INF` entries of a master playlist, URIs resolved against its URL. */
function parseMaster(text: string, base: string): Variant[] {
  const lines = text.split('\n');
  const variants: Variant[] = [];
  lines.forEach((line, i) => {
    if (!line.startsWith('#EXT-X-STREAM-INF:')) return;
    const attributes: Record<string, string> = {};
    for (const match of line.slice('#EXT-X-STREAM-INF:'.length).matchAll(/([A-Z-]+)=("[^"]*"|[^,]*)/g)) {
      attributes[match[1]!] = match[2]!.replace(/^"|"$/g, '');
    }
    variants.push({ attributes, url: new URL(lines[i + 1]!, base).toString() });
  });
  return variants;
}

/** Segment durations and the peak bit rate over single segments, measured by downloading every segment. */
async function measure(playlistUrl: string) {
  const text = await (await fetch(playlistUrl)).text();
  const { segments } = parseHlsPlaylist(text);
  const urls = segmentUris(text);
  const sizes = await Promise.all(
    urls.map(async (url) => (await (await fetch(url)).arrayBuffer()).byteLength),
  );
  const bits = sizes.reduce((sum, size) => sum + size * 8, 0);
  const duration = segments.reduce((sum, segment) => sum + segment.durationSeconds, 0);
  return { durations: segments.map((s) => s.durationSeconds), averageBitRate: bits / duration };
}

const PAGE = `<!doctype html><html><body><video id="v" muted playsinline></video>
<script src="/hls.js"></script>
<script>
  window.playLowest = (url) => new Promise((resolve, reject) => {
    const video = document.getElementById('v');
    const hls = new Hls({ startPosition: 0, capLevelToPlayerSize: false });
    const switched = [];
    hls.on(Hls.Events.ERROR, (_, data) => { if (data.fatal) reject(new Error(data.type + ': ' + data.details)); });
    hls.on(Hls.Events.LEVEL_SWITCHED, (_, data) => switched.push(hls.levels[data.level].height));
    hls.on(Hls.Events.MANIFEST_PARSED, () => {
      // Pick the lowest quality by hand, as the player's quality menu does.
      const lowest = hls.levels.reduce((best, level, i) => (level.height < hls.levels[best].height ? i : best), 0);
      hls.currentLevel = lowest;
      video.play().catch(reject);
    });
    const report = () => ({
      levels: hls.levels.map((l) => ({ height: l.height, bitrate: l.bitrate })),
      switched,
      videoHeight: video.videoHeight,
      duration: video.duration,
      currentTime: video.currentTime,
    });
    video.addEventListener('timeupdate', () => { if (video.currentTime > 3) resolve(report()); });
    setTimeout(() => reject(new Error('not playing: ' + JSON.stringify(report()))), 40000);
    hls.loadSource(url);
    hls.attachMedia(video);
  });
</script></body></html>`;

describe.each(VARIANTS)('bitrate ladder after ready (%s)', (variant) => {
  let server: TestServer;
  let mediaDir: string;
  let alice: ReturnType<typeof api>;
  let id: string;
  let firstReady: Record<string, unknown>;
  let ready: Record<string, unknown>;

  beforeAll(async () => {
    mediaDir = await fs.mkdtemp(path.join(os.tmpdir(), 'notetaker-media-'));
    server = await startTestServer(variant, { RENDITIONS: '720,360', SEGMENT_SECONDS: '4' });
    alice = api(server, await server.mintUserToken('alice'));
    const file = await makeTestMedia(mediaDir, 'h264-aac-1080p', { seconds: SECONDS });
    id = (await server.importVideo(file, { ownerId: 'alice' })).id;
    await alice(`/api/videos/${id}/stream`);
    firstReady = (await waitForStream(alice, id)).body;
    ready = await waitForReadyWith(
      alice,
      id,
      (body) => String(body['hls_url']).includes('/master.m3u8'),
      120_000,
    );
    // Both rungs: wait until the master lists three variants.
    for (let i = 0; i < 600; i += 1) {
      const master = await (await fetch(ready['hls_url'] as string)).text();
      if (parseMaster(master, ready['hls_url'] as string).length === 3) break;
      await new Promise((r) => setTimeout(r, 200));
    }
  }, 180_000);

  afterAll(async () => {
    await server?.close();
    if (mediaDir) await fs.rm(mediaDir, { recursive: true, force: true });
  });

  it('is ready with the source rendition first; the rungs are queued by that same ready, not before it', async () => {
    expect(firstReady['status']).toBe('ready');
    const video = await findVideo(server.database.db, id);
    const rungs = (await listVideoTasks(server.database.db, id)).filter((task) => task.kind === 'rendition');
    expect(rungs.map((task) => JSON.parse(task.params).height).sort()).toEqual([360, 720]);
    for (const task of rungs) {
      expect(task.hls_run_id).toBe(video!.hls_run_id);
      expect(task.created_at.getTime()).toBeGreaterThanOrEqual(video!.hls_generated_at!.getTime());
    }
  });

  it('lists every rung in the master with measured BANDWIDTH, RESOLUTION, CODECS and FRAME-RATE', async () => {
    const hlsUrl = ready['hls_url'] as string;
    const response = await fetch(hlsUrl);
    expect(response.headers.get('content-type')).toContain('mpegurl');
    expect(response.headers.get('cache-control')).toContain('no-store');
    const variants = parseMaster(await response.text(), hlsUrl);
    expect(variants.map((v) => v.attributes['RESOLUTION'])).toEqual(['1920x1080', '1280x720', '640x360']);
    let previous = Infinity;
    for (const variant of variants) {
      const bandwidth = Number(variant.attributes['BANDWIDTH']);
      const average = Number(variant.attributes['AVERAGE-BANDWIDTH']);
      expect(bandwidth).toBeLessThan(previous);
      previous = bandwidth;
      expect(average).toBeLessThanOrEqual(bandwidth);
      // Measured, not the encoder target: the average matches the bytes really served, within rounding.
      const measured = await measure(variant.url);
      expect(Math.abs(measured.averageBitRate - average) / average).toBeLessThan(0.02);
      expect(variant.attributes['CODECS']).toMatch(/^avc1\.[0-9a-f]{6},mp4a\.40\.2$/);
      expect(Number(variant.attributes['FRAME-RATE'])).toBeCloseTo(25, 2);
    }
  });

  it('aligns segment boundaries across rungs and every variant plays to the end', async () => {
    const hlsUrl = ready['hls_url'] as string;
    const variants = parseMaster(await (await fetch(hlsUrl)).text(), hlsUrl);
    const [source, ...rungs] = await Promise.all(variants.map((v) => measure(v.url)));
    for (const rung of rungs) {
      expect(rung.durations.length).toBe(source!.durations.length);
      rung.durations.forEach((d, i) => expect(Math.abs(d - source!.durations[i]!)).toBeLessThan(0.05));
    }
    for (const variant of variants) expect(await probeHlsDuration(variant.url)).toBeCloseTo(SECONDS, 0);
  });

  it('guards rung playlists like the others: no token 401, another video or unknown rung 404', async () => {
    const hlsUrl = new URL(ready['hls_url'] as string);
    const token = hlsUrl.searchParams.get('token')!;
    const base = `${server.url}/api/videos/${id}`;
    expect((await fetch(`${base}/renditions/720p.m3u8`)).status).toBe(401);
    expect((await fetch(`${base}/master.m3u8`)).status).toBe(401);
    expect((await fetch(`${base}/renditions/540p.m3u8?token=${encodeURIComponent(token)}`)).status).toBe(404);
    const rung = await (
      await fetch(`${base}/renditions/360p.m3u8?token=${encodeURIComponent(token)}`)
    ).text();
    // Every segment presigned and absolute, like the source rendition.
    for (const uri of segmentUris(rung)) expect(uri).toMatch(/^https?:\/\//);
  });

  it('plays the lowest rung from the master in hls.js in Chromium', async () => {
    const browser = await launchChromium();
    const host = await serveFiles({
      '/': { type: 'text/html', body: PAGE },
      '/hls.js': {
        type: 'text/javascript',
        body: await fs.readFile(require.resolve('hls.js/dist/hls.min.js')),
      },
    });
    try {
      const page = await browser.context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      await page.goto(host.url);
      const result = (await page.evaluate(
        (url) => (window as any).playLowest(url),
        ready['hls_url'] as string,
      )) as {
        levels: Array<{ height: number }>;
        switched: number[];
        videoHeight: number;
        duration: number;
        currentTime: number;
      };
      expect(result.levels.map((l) => l.height).sort((a, b) => a - b)).toEqual([360, 720, 1080]);
      expect(result.switched).toContain(360);
      expect(result.videoHeight).toBe(360);
      expect(result.duration).toBeCloseTo(SECONDS, 0);
      expect(result.currentTime).toBeGreaterThan(3);
      expect(errors).toEqual([]);
    } finally {
      // The browser first: the file server's close waits for the browser's keep-alive connections.
      await browser.close();
      await host.close();
    }
  });

  it('drops the rungs with the HLS: a new generation queues its own and never lists the old ones', async () => {
    const before = (await listVideoTasks(server.database.db, id)).map((task) => task.id);
    const manage = api(server, server.serviceApiKey);
    expect((await manage(`/api/manage/videos/${id}/hls`, { method: 'DELETE' })).status).toBeLessThan(300);
    await alice(`/api/videos/${id}/stream`);
    expect((await waitForStream(alice, id)).body['status']).toBe('ready');
    const video = await findVideo(server.database.db, id);
    const tasks = await listVideoTasks(server.database.db, id);
    expect(tasks.length).toBe(3);
    for (const task of tasks) {
      expect(before).not.toContain(task.id);
      expect(task.hls_run_id).toBe(video!.hls_run_id);
    }
  });
});
