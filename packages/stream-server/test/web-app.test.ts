import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { pino } from 'pino';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ConfigError, loadConfig } from '../src/config/load-config.js';
import { startServer } from '../src/server/start-server.js';
import { launchChromium } from './helpers/chromium.js';
import { makeTestMedia } from './helpers/media.js';
import {
  api,
  createTestDatabase,
  startTestServer,
  waitForStream,
  type TestServer,
  type Variant,
} from './helpers/test-server.js';

const exec = promisify(execFile);
const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));

let browser: Awaited<ReturnType<typeof launchChromium>>;
let mediaDir: string;

beforeAll(async () => {
  // The page the server serves is the one the build makes: build it from the current sources.
  await exec(process.execPath, [path.join(PACKAGE_DIR, 'scripts/build-web.mjs')], { cwd: PACKAGE_DIR });
  mediaDir = await fs.mkdtemp(path.join(os.tmpdir(), 'notetaker-web-media-'));
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  if (mediaDir) await fs.rm(mediaDir, { recursive: true, force: true });
});

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

/** The tests both variants run; `embeddedOnly` adds the ones that need only one server kind. */
function describeVariant(variant: Variant, embeddedOnly?: (server: () => TestServer) => void) {
  describe(`the web page (${variant})`, () => {
    let server: TestServer;

    beforeAll(async () => {
      // On S3, every upload is multipart (a one-part upload for these small files), so the page's part path runs.
      server = await startTestServer(
        variant,
        variant === 'postgres-s3' ? { MULTIPART_THRESHOLD_BYTES: '1' } : {},
      );
    });

    afterAll(async () => {
      await server?.close();
    });

    sharedTests(variant, () => server);
    embeddedOnly?.(() => server);
  });
}

function sharedTests(variant: Variant, getServer: () => TestServer) {
  it('uploads a file with a progress bar, shows it become ready, plays it past 2 s and deletes it', async () => {
    const server = getServer();
    const file = await makeTestMedia(mediaDir, 'h264-aac-faststart', { seconds: 8 });
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

    if (variant === 'embedded') await dropFile(page, file, 'video/mp4');
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

  it("registers, completes and deletes only the token user's own videos through the user API", async () => {
    const server = getServer();
    const file = await makeTestMedia(mediaDir, 'h264-aac-faststart', { seconds: 4 });
    const bytes = await fs.readFile(file);
    const bob = api(server, await server.mintUserToken('bob'));
    const carol = api(server, await server.mintUserToken('carol'));

    const created = await bob('/api/videos', {
      method: 'POST',
      body: JSON.stringify({ title: 'Mine', content_type: 'video/mp4', size_bytes: bytes.length }),
    });
    expect(created.status).toBe(201);
    const { video, upload } = await json(created);
    expect(video).toMatchObject({ owner_id: 'bob', title: 'Mine', upload_status: 'pending' });

    // Someone else cannot complete or delete it: 404, exactly as for an unknown video.
    const foreignComplete = await carol(`/api/videos/${video.id}/upload/complete`, {
      method: 'POST',
      body: '{}',
    });
    expect(foreignComplete.status).toBe(404);
    expect((await carol(`/api/videos/${video.id}`, { method: 'DELETE' })).status).toBe(404);

    // Completing before the bytes arrived says so.
    const early = await bob(`/api/videos/${video.id}/upload/complete`, { method: 'POST', body: '{}' });
    if (upload.method === 'PUT') {
      expect(early.status).toBe(409);
      expect(await json(early)).toMatchObject({ error: { code: 'upload_incomplete' } });
    } else {
      expect(early.status).toBe(400);
      expect((await json(early))['error']['message']).toContain('multipart');
    }

    let parts: Array<{ part_number: number; etag: string }> | undefined;
    if (upload.method === 'PUT') {
      expect((await fetch(upload.url, { method: 'PUT', body: bytes, headers: upload.headers })).status).toBe(
        200,
      );
    } else {
      const put = await fetch(upload.parts[0].url, { method: 'PUT', body: bytes });
      expect(put.status).toBe(200);
      parts = [{ part_number: 1, etag: put.headers.get('etag')! }];
    }
    const completed = await bob(`/api/videos/${video.id}/upload/complete`, {
      method: 'POST',
      body: JSON.stringify(parts ? { parts } : {}),
    });
    expect(completed.status).toBe(200);
    expect(await json(completed)).toMatchObject({ upload_status: 'complete', size_bytes: bytes.length });
    await bob(`/api/videos/${video.id}/stream`);
    expect((await waitForStream(bob, video.id)).body['status']).toBe('ready');

    expect((await bob(`/api/videos/${video.id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await bob(`/api/videos/${video.id}`)).status).toBe(404);
    expect(await server.storage.headObject(`videos/bob/${video.id}.mp4`)).toBeNull();
    expect((await bob(`/api/videos/${video.id}`, { method: 'DELETE' })).status).toBe(404);
  });

  it('mints dev tokens only for user names that can own videos', async () => {
    const server = getServer();
    const minted = await fetch(`${server.url}/api/dev/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: 'dave' }),
    });
    expect(minted.status).toBe(200);
    const body = await json(minted);
    expect(body).toMatchObject({ user: 'dave' });
    expect(Date.parse(body['expires_at'])).toBeGreaterThan(Date.now());
    expect((await api(server, body['token'])('/api/videos')).status).toBe(200);

    const refused = await fetch(`${server.url}/api/dev/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: '../etc' }),
    });
    expect(refused.status).toBe(400);
    expect(await json(refused)).toMatchObject({ error: { code: 'bad_request' } });
  });
}

describeVariant('postgres-s3');
describeVariant('embedded', (getServer) => {
  it('shows a failed video with its message, and Retry starts it again', async () => {
    const server = getServer();
    const file = await makeTestMedia(mediaDir, 'random-bytes');
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
    const file = await makeTestMedia(mediaDir, 'h264-aac-faststart', { seconds: 6 });
    const { id } = await server.importVideo(file, { ownerId: 'gina', title: 'With captions' });
    const gina = api(server, await server.mintUserToken('gina'));
    await gina(`/api/videos/${id}/stream`);
    expect((await waitForStream(gina, id)).body['status']).toBe('ready');
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

  it('serves the page without caching and its hashed assets for a year, gzipped when accepted', async () => {
    const server = getServer();
    const page = await fetch(server.url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('cache-control')).toBe('no-cache');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await page.text();
    expect(html).toContain('<script type="application/json" id="notetaker-config">');
    expect(html).toContain('"dev_login":true');

    const script = /<script type="module" src="([^"]+)"/.exec(html)?.[1];
    const styles = /<link rel="stylesheet" href="([^"]+)"/.exec(html)?.[1];
    const js = await fetch(`${server.url}${script}`, { headers: { 'accept-encoding': 'gzip' } });
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(js.headers.get('content-encoding')).toBe('gzip');
    expect((await js.text()).length).toBeGreaterThan(1000);
    const css = await fetch(`${server.url}${styles}`);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');

    const again = await fetch(`${server.url}${styles}`, {
      headers: { 'if-none-match': css.headers.get('etag')! },
    });
    expect(again.status).toBe(304);
    expect((await fetch(`${server.url}/assets/..%2Fpackage.json`)).status).toBe(404);
    expect((await fetch(`${server.url}/assets/missing-AAAAAAAA.js`)).status).toBe(404);
  });
});

describe('the web page with user tokens from the host app', () => {
  const secret = 'a-host-app-secret-of-at-least-32-characters';
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer('embedded', { AUTH_JWT_SECRET: secret });
  });

  afterAll(async () => {
    await server?.close();
  });

  it('signs in with a pasted token and offers no uploads, while dev login and user uploads are off', async () => {
    const { id } = await server.importVideo(
      await makeTestMedia(mediaDir, 'h264-aac-faststart', { seconds: 4 }),
      {
        ownerId: 'frank',
        title: 'From the backend',
      },
    );
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

    const devLogin = await fetch(`${server.url}/api/dev/token`, { method: 'POST', body: '{"user":"frank"}' });
    expect(devLogin.status).toBe(404);
    const frank = api(server, await server.mintUserToken('frank'));
    const register = await frank('/api/videos', { method: 'POST', body: '{}' });
    expect(register.status).toBe(403);
    expect(await json(register)).toMatchObject({ error: { code: 'forbidden' } });
    expect((await frank(`/api/videos/${id}`, { method: 'DELETE' })).status).toBe(403);
    expect((await frank(`/api/videos/${id}`)).status).toBe(200);
  });
});

describe('web page settings', () => {
  it('turn dev login and user uploads on only when no user-token settings are configured', () => {
    expect(loadConfig({})).toMatchObject({ webApp: true, devLogin: true, userUploads: true });
    const hosted = loadConfig({ AUTH_JWT_SECRET: 'x'.repeat(32) });
    expect(hosted).toMatchObject({ webApp: true, devLogin: false, userUploads: false });
    expect(loadConfig({ AUTH_JWKS_URL: 'https://id.example.com/jwks.json' })).toMatchObject({
      devLogin: false,
      userUploads: false,
    });
    expect(
      loadConfig({ AUTH_JWT_SECRET: 'x'.repeat(32), USER_UPLOADS: 'true', WEB_APP: 'false' }),
    ).toMatchObject({
      webApp: false,
      userUploads: true,
    });
    expect(loadConfig({ DEV_LOGIN: 'false', USER_UPLOADS: 'false' })).toMatchObject({
      devLogin: false,
      userUploads: false,
    });
  });

  it('refuse dev login when tokens are verified against a JWKS', () => {
    expect(() =>
      loadConfig({ AUTH_JWKS_URL: 'https://id.example.com/jwks.json', DEV_LOGIN: 'true' }),
    ).toThrow(ConfigError);
  });

  it('leave / to the API when WEB_APP is false, and warn when dev login listens beyond loopback', async () => {
    // PostgreSQL starts faster than PGlite; storage stays local.
    const database = await createTestDatabase();
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'notetaker-web-off-'));
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
    const server = await startServer({
      env: {
        DATA_DIR: dataDir,
        PORT: '0',
        HOST: '0.0.0.0',
        DEV_LOGIN: 'true',
        WEB_APP: 'false',
        DATABASE_URL: database.url,
      },
      logger,
    });
    try {
      const answer = await fetch(server.url);
      expect(answer.status).toBe(404);
      expect(await json(answer)).toMatchObject({ error: { code: 'not_found' } });
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
      const warning = lines
        .map((line) => JSON.parse(line) as { msg: string; host?: string })
        .find((l) => l.host);
      expect(warning).toMatchObject({ host: '0.0.0.0' });
      expect(warning?.msg).toContain('DEV_LOGIN is on');
    } finally {
      await server.stop();
      await database.drop();
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  });
});
