import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { makeTestMedia } from './helpers/media.js';
import { waitFor } from './helpers/processes.js';
import { api, startTestServer, type TestServer } from './helpers/test-server.js';

describe('pre-generation (PREGENERATE=true)', () => {
  let server: TestServer;
  let mediaDir: string;

  beforeAll(async () => {
    mediaDir = await fs.mkdtemp(path.join(os.tmpdir(), 'notetaker-media-'));
    server = await startTestServer('embedded', { PREGENERATE: 'true' });
  });

  afterAll(async () => {
    await server?.close();
    await fs.rm(mediaDir, { recursive: true, force: true });
  });

  it('generates at upload time, so the first view is already ready', async () => {
    const file = await makeTestMedia(mediaDir, 'h264-aac-faststart', { seconds: 6 });
    const manage = api(server, server.serviceApiKey);
    const { video, upload } = (await (
      await manage('/api/manage/videos', { method: 'POST', body: JSON.stringify({ owner_id: 'alice' }) })
    ).json()) as { video: { id: string }; upload: { url: string; headers: Record<string, string> } };
    await fetch(upload.url, { method: 'PUT', body: await fs.readFile(file), headers: upload.headers });
    const completed = (await (
      await manage(`/api/manage/videos/${video.id}/upload/complete`, { method: 'POST', body: '{}' })
    ).json()) as { hls_status: string };
    expect(completed.hls_status).toBe('generating');

    await waitFor('generation without any view', async () => {
      const row = (await (await manage(`/api/manage/videos/${video.id}`)).json()) as { hls_status: string };
      return row.hls_status === 'ready' ? true : undefined;
    });
    const alice = api(server, await server.mintUserToken('alice'));
    const first = await alice(`/api/videos/${video.id}/stream`);
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ status: 'ready' });
  });
});
