import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { makeTestMedia } from './helpers/media.js';
import {
  api,
  startTestServer,
  VARIANTS,
  waitForReadyWith,
  waitForStream,
  type TestServer,
} from './helpers/test-server.js';

describe.each(VARIANTS)('the management API (%s)', (variant) => {
  let server: TestServer;
  let mediaDir: string;
  let manage: ReturnType<typeof api>;
  let alice: ReturnType<typeof api>;

  beforeAll(async () => {
    mediaDir = await fs.mkdtemp(path.join(os.tmpdir(), 'notetaker-media-'));
    // A small multipart threshold so the multipart path runs on a small file.
    server = await startTestServer(variant, {
      MULTIPART_THRESHOLD_BYTES: String(6 * 1024 * 1024),
      MULTIPART_PART_BYTES: String(5 * 1024 * 1024),
      CORS_ORIGINS: 'https://app.example',
    });
    manage = api(server, server.serviceApiKey);
    alice = api(server, await server.mintUserToken('alice'));
  });

  afterAll(async () => {
    await server?.close();
    await fs.rm(mediaDir, { recursive: true, force: true });
  });

  const json = async (response: Response) => (await response.json()) as Record<string, any>;

  it('registers a video, takes a direct upload to the presigned URL, and plays it', async () => {
    const file = await makeTestMedia(mediaDir, 'h264-aac-faststart', { seconds: 6 });
    const bytes = await fs.readFile(file);
    const created = await manage('/api/manage/videos', {
      method: 'POST',
      body: JSON.stringify({ owner_id: 'alice', title: 'Direct', size_bytes: bytes.length }),
    });
    expect(created.status).toBe(201);
    const { video, upload } = await json(created);
    expect(video).toMatchObject({
      owner_id: 'alice',
      title: 'Direct',
      upload_status: 'pending',
      hls_status: null,
    });
    expect(upload.method).toBe('PUT');

    // Before the upload, /stream says so.
    const early = await alice(`/api/videos/${video.id}/stream`);
    expect(early.status).toBe(409);
    expect(await json(early)).toMatchObject({ error: { code: 'upload_incomplete' } });

    const put = await fetch(upload.url, { method: 'PUT', body: bytes, headers: upload.headers });
    expect(put.status).toBe(200);
    const completed = await manage(`/api/manage/videos/${video.id}/upload/complete`, {
      method: 'POST',
      body: '{}',
    });
    expect(completed.status).toBe(200);
    expect(await json(completed)).toMatchObject({ upload_status: 'complete', size_bytes: bytes.length });

    await alice(`/api/videos/${video.id}/stream`);
    expect((await waitForStream(alice, video.id)).body['status']).toBe('ready');
  });

  it('uploads a large file in presigned multipart parts', async () => {
    const file = await makeTestMedia(mediaDir, 'h264-aac-faststart', { seconds: 6 });
    const source = await fs.readFile(file);
    // Pad past the threshold with a second copy in an mp4-tolerant way is not needed: storage only sees bytes.
    const bytes = Buffer.concat([source, Buffer.alloc(7 * 1024 * 1024 - source.length, 0)]);
    const created = await json(
      await manage('/api/manage/videos', {
        method: 'POST',
        body: JSON.stringify({ owner_id: 'alice', size_bytes: bytes.length }),
      }),
    );
    expect(created.upload.method).toBe('multipart');
    expect(created.upload.parts).toHaveLength(2);
    const parts = [];
    for (const part of created.upload.parts as Array<{ part_number: number; url: string }>) {
      const start = (part.part_number - 1) * created.upload.part_size;
      const chunk = bytes.subarray(start, start + created.upload.part_size);
      const response = await fetch(part.url, { method: 'PUT', body: chunk });
      expect(response.status).toBe(200);
      parts.push({ part_number: part.part_number, etag: response.headers.get('etag')! });
    }
    const completed = await manage(`/api/manage/videos/${created.video.id}/upload/complete`, {
      method: 'POST',
      body: JSON.stringify({ parts }),
    });
    expect(completed.status).toBe(200);
    expect((await json(completed))['size_bytes']).toBe(bytes.length);
    const stored = await server.storage.getObject(`videos/alice/${created.video.id}.mp4`);
    const chunks: Buffer[] = [];
    for await (const chunk of stored.body) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).equals(bytes)).toBe(true);
  });

  it('imports an object already in the bucket, pre-generates it, deletes its HLS, then deletes it', async () => {
    const file = await makeTestMedia(mediaDir, 'h264-aac-faststart', { seconds: 6 });
    await server.storage.putFile('legacy/recording.mp4', file, { contentType: 'video/mp4' });
    const imported = await manage('/api/manage/videos/import', {
      method: 'POST',
      body: JSON.stringify({ owner_id: 'bob', source_key: 'legacy/recording.mp4', title: 'Legacy' }),
    });
    expect(imported.status).toBe(201);
    const video = await json(imported);
    expect(video).toMatchObject({ owner_id: 'bob', upload_status: 'complete', hls_status: null });

    const pre = await manage(`/api/manage/videos/${video.id}/hls`, { method: 'POST' });
    expect(pre.status).toBe(202);
    const bob = api(server, await server.mintUserToken('bob'));
    expect((await waitForStream(bob, video.id)).body['status']).toBe('ready');
    // And its after-ready work (poster, storyboard) done, so everything of the HLS is stored before it is deleted.
    await waitForReadyWith(bob, video.id, (body) => 'storyboard_url' in body);
    expect((await server.storage.listObjects(`videos/bob/${video.id}_hls/`)).length).toBeGreaterThan(1);

    const listed = await json(await manage('/api/manage/videos?owner_id=bob'));
    expect(listed.videos.map((v: { id: string }) => v.id)).toContain(video.id);

    expect((await manage(`/api/manage/videos/${video.id}/hls`, { method: 'DELETE' })).status).toBe(204);
    expect(await server.storage.listObjects(`videos/bob/${video.id}_hls/`)).toEqual([]);
    expect((await json(await manage(`/api/manage/videos/${video.id}`)))['hls_status']).toBeNull();

    expect((await manage(`/api/manage/videos/${video.id}`, { method: 'DELETE' })).status).toBe(204);
    expect(await server.storage.headObject('legacy/recording.mp4')).toBeNull();
    expect((await manage(`/api/manage/videos/${video.id}`)).status).toBe(404);
    expect((await bob(`/api/videos/${video.id}/stream`)).status).toBe(404);
  });

  it('after its HLS is deleted, a video plays the playlist of its new generation, never the one kept before', async () => {
    const short = await makeTestMedia(mediaDir, 'h264-aac-faststart', { seconds: 4 });
    await server.storage.putFile('legacy/regenerated.mp4', short, { contentType: 'video/mp4' });
    const imported = await manage('/api/manage/videos/import', {
      method: 'POST',
      body: JSON.stringify({ owner_id: 'bob', source_key: 'legacy/regenerated.mp4' }),
    });
    const { id } = await json(imported);
    const bob = api(server, await server.mintUserToken('bob'));
    const playlist = async () => {
      await bob(`/api/videos/${id}/stream`);
      const ready = await waitForStream(bob, id);
      expect(ready.body['status']).toBe('ready');
      // Twice: the second answer is the kept one.
      await (await fetch(ready.body['hls_url'] as string)).text();
      const text = await (await fetch(ready.body['hls_url'] as string)).text();
      return text.split('\n').filter((line) => line.startsWith('http')).length;
    };
    const before = await playlist();

    expect((await manage(`/api/manage/videos/${id}/hls`, { method: 'DELETE' })).status).toBe(204);
    // The same key, a longer recording: the new run's playlist has more segments at the same storage key.
    const long = await makeTestMedia(await fs.mkdtemp(path.join(mediaDir, 'long-')), 'h264-aac-faststart', {
      seconds: 16,
    });
    await server.storage.putFile('legacy/regenerated.mp4', long, { contentType: 'video/mp4' });
    expect(await playlist()).toBeGreaterThan(before);
  });

  it('refuses importing a key that is not in the bucket', async () => {
    const response = await manage('/api/manage/videos/import', {
      method: 'POST',
      body: JSON.stringify({ owner_id: 'bob', source_key: 'nope/missing.mp4' }),
    });
    expect(response.status).toBe(400);
    expect(await json(response)).toMatchObject({ error: { code: 'bad_request' } });
  });

  it.each([
    ['not JSON', '{"owner_id": '],
    ['a missing owner', '{}'],
    ['an owner id with a slash', '{"owner_id":"../etc"}'],
    ['a negative size', '{"owner_id":"alice","size_bytes":-1}'],
    ['an array', '[]'],
  ])('answers 400 with a JSON error to %s', async (_, body) => {
    const response = await manage('/api/manage/videos', { method: 'POST', body });
    expect(response.status).toBe(400);
    expect(await json(response)).toMatchObject({
      error: { code: 'bad_request', message: expect.any(String) },
    });
  });

  it('refuses a wrong service key', async () => {
    const wrong = api(server, 'x'.repeat(43));
    expect((await wrong('/api/manage/videos?owner_id=alice')).status).toBe(401);
  });

  it('answers CORS preflights for the player on a configured origin, and for no other', async () => {
    const preflight = (origin: string) =>
      fetch(`${server.url}/api/videos/00000000-0000-4000-8000-000000000000/stream`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'authorization,range',
        },
      });
    const response = await preflight('https://app.example');
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(response.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
    const other = await preflight('https://elsewhere.example');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('reports health and readiness', async () => {
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await json(ready)).toMatchObject({ status: 'ok', checks: { database: 'ok', storage: 'ok' } });
  });
});

describe('a fresh embedded server', () => {
  it('is ready before anything has been stored', async () => {
    const server = await startTestServer('embedded');
    try {
      const ready = await fetch(`${server.url}/readyz`);
      expect(await ready.json()).toMatchObject({ status: 'ok', checks: { database: 'ok', storage: 'ok' } });
      expect(ready.status).toBe(200);
    } finally {
      await server.close();
    }
  });
});
