import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { launchChromium, serveFiles } from './helpers/chromium.js';
import { makeTestMedia } from './helpers/media.js';
import { api, startTestServer, VARIANTS, waitForStream, type TestServer } from './helpers/test-server.js';

const require = createRequire(import.meta.url);

const PAGE = `<!doctype html><html><body><video id="v" muted playsinline></video>
<script src="/hls.js"></script>
<script>
  window.play = (url) => new Promise((resolve, reject) => {
    const video = document.getElementById('v');
    const hls = new Hls({ startPosition: 0 });
    hls.on(Hls.Events.ERROR, (_, data) => { if (data.fatal) reject(new Error(data.type + ': ' + data.details)); });
    hls.loadSource(url);
    hls.attachMedia(video);
    hls.on(Hls.Events.MANIFEST_PARSED, () => video.play().catch(reject));
    video.addEventListener('ended', () => resolve({ currentTime: video.currentTime, duration: video.duration }));
    window.hls = hls;
  });
</script></body></html>`;

describe.each(VARIANTS)('playback in Chromium with hls.js (%s)', (variant) => {
  let server: TestServer;
  let mediaDir: string;
  let host: Awaited<ReturnType<typeof serveFiles>>;
  let browser: Awaited<ReturnType<typeof launchChromium>>;

  beforeAll(async () => {
    mediaDir = await fs.mkdtemp(path.join(os.tmpdir(), 'notetaker-media-'));
    server = await startTestServer(variant);
    host = await serveFiles({
      '/': { type: 'text/html', body: PAGE },
      '/hls.js': {
        type: 'text/javascript',
        body: await fs.readFile(require.resolve('hls.js/dist/hls.min.js')),
      },
    });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await host?.close();
    await server?.close();
    await fs.rm(mediaDir, { recursive: true, force: true });
  });

  it('plays hls_url from a private bucket on another origin, from start to end', async () => {
    const file = await makeTestMedia(mediaDir, 'h264-aac-faststart', { seconds: 8 });
    const { id } = await server.importVideo(file, { ownerId: 'alice' });
    const alice = api(server, await server.mintUserToken('alice'));
    await alice(`/api/videos/${id}/stream`);
    const { body } = await waitForStream(alice, id);
    expect(body['status']).toBe('ready');

    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(host.url);
    const result = (await page.evaluate((url) => (window as any).play(url), body['hls_url'] as string)) as {
      currentTime: number;
      duration: number;
    };
    expect(result.currentTime).toBeGreaterThan(7);
    expect(result.duration).toBeCloseTo(8, 0);
    expect(errors).toEqual([]);
    await page.close();
  });
});
