import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ConfigError, loadConfig } from '../src/config/load-config.js';
import { startServer } from '../src/server/start-server.js';
import { makeTestMedia } from './helpers/media.js';
import {
  api,
  createTestDatabase,
  startTestServer,
  waitForStream,
  type TestServer,
  type Variant,
} from './helpers/test-server.js';

// The server's side of the web page: the user API it calls, the dev sign-in, and serving a built page from WEB_DIR.
// The page itself (apps/web) in Chromium against a real server: tests/integration/test/web-app.node.test.ts.

let mediaDir: string;

beforeAll(async () => {
  mediaDir = await fs.mkdtemp(path.join(os.tmpdir(), 'notetaker-web-media-'));
});

afterAll(async () => {
  if (mediaDir) await fs.rm(mediaDir, { recursive: true, force: true });
});

const json = async (response: Response) => (await response.json()) as Record<string, any>;

/** A built page as apps/web makes it: index.html with the config marker, hashed assets and their gzipped copies. */
async function writeBuiltPage(dir: string) {
  await fs.mkdir(path.join(dir, 'assets'), { recursive: true });
  await fs.writeFile(
    path.join(dir, 'index.html'),
    '<!doctype html><html><head><link rel="stylesheet" href="/assets/app-ABCDEF12.css" />' +
      '<!--notetaker-config--><script type="module" src="/assets/app-QKIODIN7.js"></script></head>' +
      '<body><main id="app"></main></body></html>',
  );
  const script = `document.getElementById('app').textContent = ${JSON.stringify('x'.repeat(2000))};`;
  await fs.writeFile(path.join(dir, 'assets/app-QKIODIN7.js'), script);
  await fs.writeFile(path.join(dir, 'assets/app-QKIODIN7.js.gz'), gzipSync(script));
  await fs.writeFile(path.join(dir, 'assets/app-ABCDEF12.css'), 'main { color: CanvasText; }');
}

function describeVariant(variant: Variant) {
  describe(`the user API the web page calls (${variant})`, () => {
    let server: TestServer;

    beforeAll(async () => {
      server = await startTestServer(
        variant,
        variant === 'postgres-s3' ? { MULTIPART_THRESHOLD_BYTES: '1' } : {},
      );
    });

    afterAll(async () => {
      await server?.close();
    });

    sharedTests(() => server);
  });
}

function sharedTests(getServer: () => TestServer) {
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
describeVariant('embedded');

describe('the web page from WEB_DIR', () => {
  let server: TestServer;
  let webDir: string;

  beforeAll(async () => {
    webDir = await fs.mkdtemp(path.join(os.tmpdir(), 'notetaker-web-dir-'));
    await writeBuiltPage(webDir);
    server = await startTestServer('embedded', { WEB_DIR: webDir });
  });

  afterAll(async () => {
    await server?.close();
    if (webDir) await fs.rm(webDir, { recursive: true, force: true });
  });

  it('serves the page without caching and its hashed assets for a year, gzipped when accepted', async () => {
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
    expect(script).toBe('/assets/app-QKIODIN7.js');
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

describe('a server whose web page is not built', () => {
  it('answers / with 503 and how to build the page, and the API still works', async () => {
    const webDir = await fs.mkdtemp(path.join(os.tmpdir(), 'notetaker-web-none-'));
    const server = await startTestServer('embedded', { WEB_DIR: webDir });
    try {
      const answer = await fetch(server.url);
      expect(answer.status).toBe(503);
      const body = await json(answer);
      expect(body).toMatchObject({ error: { code: 'unavailable' } });
      expect(body['error']['message']).toContain('npm run build');
      expect(body['error']['message']).toContain('apps/web');
      expect(body['error']['message']).toContain('WEB_DIR');
      expect(body['error']['message']).not.toContain(webDir);
      expect((await fetch(`${server.url}/assets/app-QKIODIN7.js`)).status).toBe(404);
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);

      // A page built after the server started is served without a restart.
      await writeBuiltPage(webDir);
      expect((await fetch(server.url)).status).toBe(200);
    } finally {
      await server.close();
      await fs.rm(webDir, { recursive: true, force: true });
    }
  });
});

describe('the user API with user tokens from the host app', () => {
  const secret = 'a-host-app-secret-of-at-least-32-characters';
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer('embedded', { AUTH_JWT_SECRET: secret });
  });

  afterAll(async () => {
    await server?.close();
  });

  it('offers no dev sign-in, no uploads and no deletes, while reading works', async () => {
    const { id } = await server.importVideo(
      await makeTestMedia(mediaDir, 'h264-aac-faststart', { seconds: 4 }),
      { ownerId: 'frank', title: 'From the backend' },
    );
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
    expect(loadConfig({})).toMatchObject({
      webApp: true,
      webDir: undefined,
      devLogin: true,
      userUploads: true,
    });
    expect(loadConfig({ WEB_DIR: 'site/dist' }).webDir).toBe(path.resolve('site/dist'));
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
