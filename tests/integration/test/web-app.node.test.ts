// The web page (apps/web, as built) in Chromium against a real stream server serving it from WEB_DIR: sign in, upload
// with progress (one PUT and multipart), play, delete, a failed video and Retry, captions, and a pasted user token.
// The server's own side (the user API, serving a page folder, the 503 without one) is tested in the server package.
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

import { startServer } from '@notetaker/stream-server';
import { launchChromium } from '@notetaker/test-support/chromium';
import { runFfmpeg, testSourceArgs } from '@notetaker/test-support/media';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** The page as `npm run build` made it (apps/web/dist). */
const WEB_DIR = path.join(
  path.dirname(createRequire(import.meta.url).resolve('@notetaker/web/package.json')),
  'dist',
);

type TestServer = Awaited<ReturnType<typeof startServer>> & { close(): Promise<void> };

let browser: Awaited<ReturnType<typeof launchChromium>>;
let mediaDir: string;
let mediaCount = 0;

beforeAll(async () => {
  await fs.access(path.join(WEB_DIR, 'index.html')).catch(() => {
    throw new Error(`No built web page in ${WEB_DIR}: run \`npm run build\` at the repository root first.`);
  });
  mediaDir = await fs.mkdtemp(path.join(os.tmpdir(), 'notetaker-web-media-'));
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  if (mediaDir) await fs.rm(mediaDir, { recursive: true, force: true });
});

/** A stream server with its embedded defaults (PGlite, local storage) serving the built page. */
async function startTestServer(env: Record<string, string> = {}): Promise<TestServer> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'notetaker-web-server-'));
  const server = await startServer({
    env: { DATA_DIR: dataDir, HOST: '127.0.0.1', PORT: '0', WORKER_POLL_MS: '200', WEB_DIR, ...env },
    logger: 'silent',
  });
  return Object.assign(Object.create(server) as typeof server, {
    async close() {
      await server.stop();
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  });
}

/** A new H.264/AAC MP4 of `seconds` made by ffmpeg (each call its own file, so the page lists it by name). */
async function makeMp4(seconds: number): Promise<string> {
  const file = path.join(mediaDir, `clip-${++mediaCount}.mp4`);
  await runFfmpeg([...testSourceArgs(seconds), '-movflags', '+faststart', file]);
  return file;
}

/** `fetch` against the server with a bearer token. */
function api(server: { url: string }, token: string) {
  return (route: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    headers.set('authorization', `Bearer ${token}`);
    return fetch(`${server.url}${route}`, { ...init, headers });
  };
}

/** Polls `/stream` until it leaves `generating`. */
async function waitForStream(call: ReturnType<typeof api>, id: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await call(`/api/videos/${id}/stream`);
    const body = (await response.json()) as Record<string, unknown>;
    if (response.status !== 202) return body;
    if (Date.now() > deadline) throw new Error(`still generating after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

const json = async (response: Response) => (await response.json()) as Record<string, any>;

/** Opens the page and signs in with the local (dev) sign-in. */
async function signIn(server: TestServer, user: string): Promise<Page> {
  const page = await browser.context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  (page as Page & { errors?: string[] }).errors = errors;
  await page.goto(server.url);
  await page.fill('#dev-user', user);
  await page.click('#dev-login button[type=submit]');
  await page.waitForSelector('#app:not([hidden])');
  await expect.poll(() => page.textContent('#who-name')).toBe(user);
  return page;
}

/** Drops a file on the drop zone the way a browser does: a `drop` event whose DataTransfer carries the file. */
async function dropFile(page: Page, file: string, type: string) {
  const base64 = (await fs.readFile(file)).toString('base64');
  const dataTransfer = await page.evaluateHandle(
    ({ base64, name, type }) => {
      const bytes = Uint8Array.from(atob(base64), (ch) => ch.charCodeAt(0));
      const transfer = new DataTransfer();
      transfer.items.add(new File([bytes], name, { type }));
      return transfer;
    },
    { base64, name: path.basename(file), type },
  );
  await page.dispatchEvent('#drop-zone', 'drop', { dataTransfer });
}

for (const mode of ['one PUT', 'multipart'] as const) {
  describe(`the web page, uploading with ${mode}`, () => {
    let server: TestServer;

    beforeAll(async () => {
      // A threshold of one byte makes every upload multipart, so the page's part path runs.
      server = await startTestServer(mode === 'multipart' ? { MULTIPART_THRESHOLD_BYTES: '1' } : {});
    });

    afterAll(async () => {
      await server?.close();
    });

    const getServer = () => server;

    it('uploads a file with a progress bar, shows it become ready, plays it past 2 s and deletes it', async () => {
      const server = getServer();
      const file = await makeMp4(8);
      const page = await signIn(server, 'alice');
      // Record every value the upload progress bar shows.
      await page.evaluate(() => {
        (window as any).progressSeen = [];
        new MutationObserver(() => {
          for (const bar of document.querySelectorAll<HTMLProgressElement>('#uploads progress')) {
            (window as any).progressSeen.push(bar.value);
          }
        }).observe(document.getElementById('uploads')!, { subtree: true, attributes: true, childList: true });
      });

      if (mode === 'one PUT') await dropFile(page, file, 'video/mp4');
      else await page.setInputFiles('#file-input', file);

      const upload = page.locator('#uploads li').first();
      await expect.poll(() => upload.getAttribute('data-state'), { timeout: 30_000 }).toBe('done');
      expect(await upload.locator('progress').evaluate((bar: HTMLProgressElement) => bar.value)).toBe(1);
      const seen = (await page.evaluate(() => (window as any).progressSeen)) as number[];
      expect(seen.at(-1)).toBe(1);

      const row = page.locator('#videos li', { hasText: path.basename(file) });
      await expect.poll(() => row.getAttribute('data-status'), { timeout: 60_000 }).toBe('ready');
      const id = (await row.getAttribute('data-video-id'))!;

      // The upload went through the user API: the video belongs to the signed-in user, on storage, complete.
      const alice = api(server, await server.mintUserToken('alice'));
      const video = await json(await alice(`/api/videos/${id}`));
      expect(video).toMatchObject({ owner_id: 'alice', upload_status: 'complete', hls_status: 'ready' });
      expect(video['size_bytes']).toBe((await fs.stat(file)).size);

      await row.locator('[data-action=play]').click();
      await page.waitForFunction(
        () => ((document.querySelector('notetaker-player') as any)?.media?.currentTime ?? 0) > 2,
        undefined,
        { timeout: 30_000 },
      );
      expect(await page.getAttribute('notetaker-player', 'video-id')).toBe(id);

      page.once('dialog', (dialog) => void dialog.accept());
      await row.locator('[data-action=delete]').click();
      await expect.poll(() => row.count()).toBe(0);
      await expect.poll(() => page.locator('notetaker-player').count()).toBe(0);
      expect((await alice(`/api/videos/${id}`)).status).toBe(404);
      expect((page as Page & { errors?: string[] }).errors).toEqual([]);
      await page.close();
    });
  });
}

describe('the web page on a video that fails, and with captions', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer();
  });

  afterAll(async () => {
    await server?.close();
  });

  const getServer = () => server;

  it('shows the first 50 videos and Load more adds the next page, then hides itself', async () => {
    const server = getServer();
    for (let i = 0; i < 55; i += 1) {
      const response = await fetch(`${server.url}/api/manage/videos`, {
        method: 'POST',
        headers: { authorization: `Bearer ${server.serviceApiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ owner_id: 'henry', title: `Meeting ${i}`, size_bytes: 1000 }),
      });
      expect(response.status).toBe(201);
    }
    const page = await signIn(server, 'henry');
    await expect.poll(() => page.locator('#videos > li').count()).toBe(50);
    expect(await page.isVisible('#load-more')).toBe(true);
    // Newest first: the last registered is on top.
    expect(await page.locator('#videos > li').first().textContent()).toContain('Meeting 54');
    await page.click('#load-more');
    await expect.poll(() => page.locator('#videos > li').count()).toBe(55);
    expect(await page.locator('#videos > li').last().textContent()).toContain('Meeting 0');
    expect(await page.isVisible('#load-more')).toBe(false);
    expect((page as Page & { errors?: string[] }).errors).toEqual([]);
    await page.close();
  });

  it('shows a failed video with its message, and Retry starts it again', async () => {
    const server = getServer();
    const file = path.join(mediaDir, 'not-media.mp4');
    await fs.writeFile(file, randomBytes(64 * 1024));
    const { id } = await server.importVideo(file, { ownerId: 'erin', title: 'Broken' });
    const page = await signIn(server, 'erin');
    const row = page.locator(`#videos li[data-video-id="${id}"]`);
    await expect.poll(() => row.getAttribute('data-status')).toBe('uploaded');

    // The first view starts generation, which fails on a file that is not media.
    await api(server, await server.mintUserToken('erin'))(`/api/videos/${id}/stream`);
    await page.click('#refresh');
    await expect.poll(() => row.getAttribute('data-status'), { timeout: 30_000 }).toBe('failed');
    const message = await row.locator('.error-message').textContent();
    expect(message?.length).toBeGreaterThan(0);

    // Retry asks the server to start again: the row leaves "failed" and, on this input, comes back to it.
    const retried = page.waitForResponse((r) => r.url().endsWith(`/api/videos/${id}/stream/retry`));
    await row.locator('[data-action=retry]').click();
    expect((await retried).status()).toBe(202);
    await expect.poll(() => row.getAttribute('data-status'), { timeout: 30_000 }).toBe('failed');
    await page.close();
  });

  it('adds and deletes captions from a video row, shows the server’s error for a bad file, and the open player shows the new track', async () => {
    const server = getServer();
    const file = await makeMp4(6);
    const { id } = await server.importVideo(file, { ownerId: 'gina', title: 'With captions' });
    const gina = api(server, await server.mintUserToken('gina'));
    await gina(`/api/videos/${id}/stream`);
    expect((await waitForStream(gina, id))['status']).toBe('ready');
    const page = await signIn(server, 'gina');
    const row = page.locator(`#videos li[data-video-id="${id}"]`);
    await expect.poll(() => row.getAttribute('data-status')).toBe('ready');
    await row.locator('[data-action=play]').click();
    await page.waitForFunction(
      () => ((document.querySelector('notetaker-player') as any)?.media?.currentTime ?? 0) > 0.5,
      undefined,
      { timeout: 30_000 },
    );

    await row.locator('[data-action=captions]').click();
    expect(await row.locator('[data-action=captions]').getAttribute('aria-expanded')).toBe('true');
    const panel = row.locator('.captions');
    await expect.poll(() => panel.locator('.caption-list').textContent()).toContain('No captions yet.');

    // A malformed file: the server's message, naming the line, shows under the form; nothing is stored.
    await panel.locator('input[name=language]').fill('en');
    await panel.locator('input[type=file]').setInputFiles({
      name: 'broken.vtt',
      mimeType: 'text/vtt',
      buffer: Buffer.from('WEBVTT\n\n00:00.000 -> 00:01.000\nHello\n'),
    });
    await panel.locator('button[type=submit]').click();
    await expect.poll(() => panel.locator('.caption-error').textContent()).toContain('Line 4:');
    expect(await json(await gina(`/api/videos/${id}/captions`))).toEqual({ captions: [] });

    // A good file, its language taken from its name, shown by default as the video's first track.
    await panel.locator('input[name=language]').fill('');
    await panel.locator('input[type=file]').setInputFiles({
      name: 'talk.pt-BR.vtt',
      mimeType: 'application/octet-stream',
      buffer: Buffer.from('WEBVTT\n\n00:00.000 --> 00:05.500\nOlá do servidor\n'),
    });
    expect(await panel.locator('input[name=language]').inputValue()).toBe('pt-BR');
    expect(await panel.locator('input[name=default]').isChecked()).toBe(true);
    await panel.locator('button[type=submit]').click();
    const track = panel.locator('.caption-list li[data-language="pt-BR"]');
    await expect.poll(() => track.textContent()).toContain('Portuguese (Brazil) (pt-BR)');
    expect(await track.textContent()).toContain('shown by default');
    expect(await panel.locator('.caption-error').isHidden()).toBe(true);
    expect((await json(await gina(`/api/videos/${id}/captions`)))['captions']).toMatchObject([
      { language: 'pt-BR', label: 'Portuguese (Brazil)', default: true },
    ]);

    // The open player asked /stream again: the master playlist carries the track, which shows without choosing.
    await page.waitForFunction(
      () => {
        const player = document.querySelector('notetaker-player') as any;
        const shown = [...(player?.media?.textTracks ?? [])].find(
          (t: TextTrack) => t.mode === 'showing' && t.language === 'pt-BR',
        ) as TextTrack | undefined;
        return player?.captionTracks?.some((t: { language: string }) => t.language === 'pt-BR') && shown;
      },
      undefined,
      { timeout: 30_000 },
    );

    await track.locator('[data-action=delete-caption]').click();
    await expect.poll(() => panel.locator('.caption-list').textContent()).toContain('No captions yet.');
    expect(await json(await gina(`/api/videos/${id}/captions`))).toEqual({ captions: [] });
    expect((page as Page & { errors?: string[] }).errors).toEqual([]);
    await page.close();
  });

  it('shows the retention curve of a watched video under its row', async () => {
    const server = getServer();
    const { id } = await server.importVideo(await makeMp4(4), { ownerId: 'hana', title: 'Watched' });
    const hana = api(server, await server.mintUserToken('hana'));
    await hana(`/api/videos/${id}/stream`);
    const ready = await waitForStream(hana, id);
    expect(ready['status']).toBe('ready');
    // A viewing session as the player reports it: seconds 0–3 watched, 1–2 again.
    const report = await fetch(
      new URL('analytics', ready['hls_url'] as string).href +
        '?token=' +
        new URL(ready['hls_url'] as string).searchParams.get('token'),
      {
        method: 'POST',
        body: JSON.stringify({
          session_id: randomUUID(),
          startup_ms: 800,
          watched: [[0, 3]],
          rewatched: [[1, 2]],
          final: true,
        }),
      },
    );
    expect(report.status).toBe(204);
    const page = await signIn(server, 'hana');
    const row = page.locator(`#videos li[data-video-id="${id}"]`);
    await expect.poll(() => row.getAttribute('data-status')).toBe('ready');
    await row.locator('[data-action=analytics]').click();
    const panel = row.locator('.analytics');
    await expect.poll(() => panel.locator('[role=status]').textContent()).toContain('1 view (1 viewer)');
    const chart = panel.locator('svg.retention-chart');
    expect(await chart.getAttribute('aria-label')).toMatch(
      /^Retention over [45] seconds: 100 % at the start, 0 % at the end/,
    );
    const points = (await chart.locator('polyline').getAttribute('points'))!.split(' ');
    expect(points.length).toBeGreaterThanOrEqual(4);
    if (process.env['UPDATE_SCREENSHOT']) {
      await panel.screenshot({
        path: path.resolve(import.meta.dirname, '../../../docs/player/retention.png'),
      });
    }
    await row.locator('[data-action=analytics]').click();
    expect(await panel.count()).toBe(0);
    expect((page as Page & { errors?: string[] }).errors).toEqual([]);
    await page.close();
  });
});

describe('the web page with user tokens from the host app', () => {
  const secret = 'a-host-app-secret-of-at-least-32-characters';
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ AUTH_JWT_SECRET: secret });
  });

  afterAll(async () => {
    await server?.close();
  });

  it('signs in with a pasted token and offers no uploads, while dev login and user uploads are off', async () => {
    const { id } = await server.importVideo(await makeMp4(4), {
      ownerId: 'frank',
      title: 'From the backend',
    });
    const page = await browser.context.newPage();
    await page.goto(server.url);
    expect(await page.isVisible('#dev-login')).toBe(false);
    await page.fill('#token-input', 'not-a-token');
    await page.click('#token-login button[type=submit]');
    await expect.poll(() => page.textContent('#notice')).toContain('refused the token');

    await page.fill('#token-input', await server.mintUserToken('frank'));
    await page.click('#token-login button[type=submit]');
    await page.waitForSelector('#app:not([hidden])');
    expect(await page.textContent('#who-name')).toBe('frank');
    expect(await page.isVisible('#drop-zone')).toBe(false);
    expect(await page.isVisible('#uploads-off')).toBe(true);
    const row = page.locator(`#videos li[data-video-id="${id}"]`);
    await expect.poll(() => row.count()).toBe(1);
    expect(await row.locator('[data-action=delete]').count()).toBe(0);
    await page.close();
  });
});
