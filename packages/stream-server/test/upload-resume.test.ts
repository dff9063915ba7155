import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { StorageError } from '../src/storage/storage.js';
import { createVideoRegistry } from '../src/videos/video-registry.js';
import { FFMPEG_PATH, makeTestMedia, videoLikeBytes } from './helpers/media.js';
import { api, startTestServer, VARIANTS, type TestServer } from './helpers/test-server.js';

const run = promisify(execFile);
const MiB = 1024 * 1024;
const PART = 5 * MiB;
const json = async (response: Response) => (await response.json()) as Record<string, any>;
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Sends the first half of `body` to a presigned PUT URL, then drops the connection (a lost network). */
function putHalfThenDrop(url: string, body: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const req = httpRequest(url, { method: 'PUT', headers: { 'content-length': String(body.length) } });
    req.on('error', () => resolve());
    req.on('response', (res) => {
      res.resume();
      resolve();
    });
    req.write(body.subarray(0, body.length >> 1), () => {
      // Give the bytes a moment to reach the server, then kill the socket mid-body.
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 200);
    });
  });
}

/** A PUT on a connection of its own (a server that refuses before reading the body closes it). */
function putOnItsOwnConnection(url: string, body: Buffer): Promise<number | 'connection closed'> {
  return new Promise((resolve) => {
    const req = httpRequest(url, {
      method: 'PUT',
      agent: false,
      headers: { 'content-length': String(body.length) },
    });
    req.on('error', () => resolve('connection closed'));
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.end(body);
  });
}

describe.each(VARIANTS)('resumable uploads and the fail-fast check (%s)', (variant) => {
  let server: TestServer;
  let manage: ReturnType<typeof api>;
  let alice: ReturnType<typeof api>;
  let mediaDir: string;

  beforeAll(async () => {
    server = await startTestServer(variant, {
      CLEANUP_INTERVAL_SECONDS: '0',
      MULTIPART_THRESHOLD_BYTES: String(6 * MiB),
      MULTIPART_PART_BYTES: String(PART),
      USER_UPLOADS: 'true',
    });
    manage = api(server, server.serviceApiKey);
    alice = api(server, await server.mintUserToken('alice'));
    mediaDir = await fs.mkdtemp(path.join(os.tmpdir(), 'notetaker-resume-'));
  });

  afterAll(async () => {
    await server?.close();
    if (mediaDir) await fs.rm(mediaDir, { recursive: true, force: true });
  });

  const register = async (size: number) => {
    const response = await manage('/api/manage/videos', {
      method: 'POST',
      body: JSON.stringify({ owner_id: 'alice', size_bytes: size, content_type: 'video/mp4' }),
    });
    expect(response.status).toBe(201);
    return json(response);
  };
  const complete = (id: string, body: unknown = {}) =>
    manage(`/api/manage/videos/${id}/upload/complete`, { method: 'POST', body: JSON.stringify(body) });
  const uploadState = async (id: string, call = manage, route = '/api/manage/videos') => {
    const response = await call(`${route}/${id}/upload`);
    return { status: response.status, body: await json(response) };
  };
  const putPart = async (url: string, bytes: Buffer<ArrayBuffer>) => {
    const response = await fetch(url, { method: 'PUT', body: bytes });
    expect(response.status).toBe(200);
    return response.headers.get('etag')!;
  };
  const stored = async (key: string) => {
    const { body } = await server.storage.getObject(key);
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  };
  const partOf = (bytes: Buffer<ArrayBuffer>, n: number) => bytes.subarray((n - 1) * PART, n * PART);

  it('refuses a text file named .mp4 at completion with 422 not_a_video, and takes a video afterwards', async () => {
    const text = Buffer.from('Meeting notes: nothing to see here.\n'.repeat(100));
    const { video, upload } = await register(text.length);
    expect((await fetch(upload.url, { method: 'PUT', body: text, headers: upload.headers })).status).toBe(
      200,
    );
    const refused = await complete(video.id);
    expect(refused.status).toBe(422);
    const error = (await json(refused)).error;
    expect(error.code).toBe('not_a_video');
    expect(error.message).toMatch(/not a video.*text/i);
    // The registration stays (pending), the refused bytes are gone, and a fresh URL takes a real upload.
    expect((await json(await manage(`/api/manage/videos/${video.id}`))).upload_status).toBe('pending');
    expect(await server.storage.headObject(video.source_key ?? `videos/alice/${video.id}.mp4`)).toBeNull();
    const state = await uploadState(video.id);
    expect(state.status).toBe(200);
    expect(state.body).toMatchObject({ status: 'pending', method: 'PUT', video_id: video.id });
  });

  it('refuses a multipart upload of random bytes and hands out a fresh multipart upload to retry', async () => {
    const bytes = Buffer.alloc(PART + 2 * MiB, 'not a video at all ') as Buffer<ArrayBuffer>;
    const { video, upload } = await register(bytes.length);
    const parts = [
      { part_number: 1, etag: await putPart(upload.parts[0].url, partOf(bytes, 1)) },
      { part_number: 2, etag: await putPart(upload.parts[1].url, partOf(bytes, 2)) },
    ];
    const refused = await complete(video.id, { parts });
    expect(refused.status).toBe(422);
    expect((await json(refused)).error.code).toBe('not_a_video');
    const state = await uploadState(video.id);
    expect(state.body.method).toBe('multipart');
    expect(state.body.upload_id).not.toBe(upload.upload_id);
    expect(state.body.stored_parts).toEqual([]);
    expect(state.body.parts.map((p: { part_number: number }) => p.part_number)).toEqual([1, 2]);
    // The retry with a file that is a video completes.
    const good = videoLikeBytes(bytes.length);
    const again = await complete(video.id, {
      parts: [
        { part_number: 1, etag: await putPart(state.body.parts[0].url, partOf(good, 1)) },
        { part_number: 2, etag: await putPart(state.body.parts[1].url, partOf(good, 2)) },
      ],
    });
    expect(again.status).toBe(200);
  });

  it('accepts real MP4, MOV, MKV, TS and WebM files at completion', async () => {
    const mp4 = await makeTestMedia(mediaDir, 'h264-aac-faststart', { seconds: 2 });
    const files = [mp4, await makeTestMedia(mediaDir, 'vp9-opus-webm', { seconds: 2 })];
    for (const ext of ['mov', 'mkv', 'ts']) {
      const out = path.join(mediaDir, `remuxed.${ext}`);
      await run(FFMPEG_PATH, ['-y', '-v', 'error', '-i', mp4, '-c', 'copy', out]);
      files.push(out);
    }
    for (const file of files) {
      const bytes = await fs.readFile(file);
      const { video, upload } = await register(bytes.length);
      expect((await fetch(upload.url, { method: 'PUT', body: bytes, headers: upload.headers })).status).toBe(
        200,
      );
      const done = await complete(video.id);
      expect({ file: path.basename(file), status: done.status }).toEqual({
        file: path.basename(file),
        status: 200,
      });
    }
  });

  it('resumes an upload interrupted midway and completes it with the same bytes', async () => {
    const bytes = videoLikeBytes(2 * PART + 4321);
    const { video, upload } = await register(bytes.length);
    expect(upload.part_count).toBe(3);
    const etag1 = await putPart(upload.parts[0].url, partOf(bytes, 1));
    // Part 2 loses its connection halfway: nothing of it counts as stored.
    await putHalfThenDrop(upload.parts[1].url, partOf(bytes, 2));

    // The user's own route answers the same as the management one.
    const mine = await uploadState(video.id, alice, '/api/videos');
    expect(mine.status).toBe(200);
    const bob = api(server, await server.mintUserToken('bob'));
    expect((await uploadState(video.id, bob, '/api/videos')).status).toBe(404);

    const state = await uploadState(video.id);
    expect(state.status).toBe(200);
    expect(state.body).toMatchObject({ method: 'multipart', part_count: 3, part_size: PART });
    expect(state.body.stored_parts).toEqual([{ part_number: 1, etag: etag1, size: PART }]);
    expect(state.body.parts.map((p: { part_number: number }) => p.part_number)).toEqual([2, 3]);
    const parts = [...state.body.stored_parts.map(({ part_number, etag }: any) => ({ part_number, etag }))];
    for (const { part_number, url } of state.body.parts) {
      parts.push({ part_number, etag: await putPart(url, partOf(bytes, part_number)) });
    }
    const done = await complete(video.id, { parts });
    expect(done.status).toBe(200);
    expect(sha256(await stored(`videos/alice/${video.id}.mp4`))).toBe(sha256(bytes));
    // Completed: nothing more to resume.
    expect((await uploadState(video.id)).status).toBe(409);
  });

  it('renews part URLs that have expired', async () => {
    // A registry with one-second URLs stands in for an upload that outlived UPLOAD_URL_TTL_SECONDS.
    const shortLived = createVideoRegistry({
      db: server.database.db,
      storage: server.storage,
      uploadUrlTtlSeconds: 1,
      multipartThresholdBytes: 6 * MiB,
      multipartPartBytes: PART,
    });
    const bytes = videoLikeBytes(PART + 2 * MiB);
    const { video, upload } = await shortLived.register({ ownerId: 'alice', sizeBytes: bytes.length });
    if (upload.method !== 'multipart') throw new Error('expected multipart');
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const expired = await fetch(upload.parts[0]!.url, { method: 'PUT', body: partOf(bytes, 1) });
    expect(expired.status).toBe(403);

    const state = await uploadState(video.id);
    expect(state.body.stored_parts).toEqual([]);
    const parts = [];
    for (const { part_number, url } of state.body.parts) {
      parts.push({ part_number, etag: await putPart(url, partOf(bytes, part_number)) });
    }
    expect((await complete(video.id, { parts })).status).toBe(200);
    expect(sha256(await stored(video.source_key))).toBe(sha256(bytes));
  });

  it('watches a deleted video’s source until the last upload URL it renewed has expired', async () => {
    const DAY = 24 * 3600 * 1000;
    let now = Date.now();
    // Three-day URLs (the configuration allows up to seven), renewed five days after the registration.
    const registry = createVideoRegistry({
      db: server.database.db,
      storage: server.storage,
      uploadUrlTtlSeconds: 3 * 24 * 3600,
      multipartThresholdBytes: 6 * MiB,
      multipartPartBytes: PART,
      clock: () => new Date(now),
    });
    const { video } = await registry.register({ ownerId: 'alice', sizeBytes: 1000 });
    now += 5 * DAY;
    const renewed = await registry.uploadState(video.id);
    expect(Date.parse(renewed.expires_at)).toBe(now + 3 * DAY);
    await registry.remove(video.id);
    const watched = await server.database.db
      .selectFrom('orphaned_sources')
      .select('remove_until')
      .where('source_key', '=', video.source_key)
      .executeTakeFirstOrThrow();
    // A PUT with the renewed URL after the deletion is still cleaned up (plus a day for one still sending).
    expect(new Date(watched.remove_until).getTime()).toBeGreaterThanOrEqual(now + 4 * DAY);
  });

  it('aborts an upload: its parts are freed, its URLs refused and the video removed', async () => {
    const bytes = videoLikeBytes(PART + 2 * MiB);
    const { video, upload } = await register(bytes.length);
    await putPart(upload.parts[0].url, partOf(bytes, 1));
    const key = `videos/alice/${video.id}.mp4`;
    expect(await server.storage.listParts(key, upload.upload_id)).toHaveLength(1);

    const aborted = await manage(`/api/manage/videos/${video.id}/upload`, { method: 'DELETE' });
    expect(aborted.status).toBe(204);
    const listing = await server.storage.listParts(key, upload.upload_id).catch((e: unknown) => e);
    expect(listing).toBeInstanceOf(StorageError);
    expect((listing as StorageError).code).toBe('not_found');
    // Refused: with an error status, or (local storage, which answers before reading the body) a closed socket.
    const late = await putOnItsOwnConnection(upload.parts[1].url, partOf(bytes, 2));
    expect(late === 'connection closed' || late >= 400).toBe(true);
    expect((await manage(`/api/manage/videos/${video.id}`)).status).toBe(404);
    expect((await uploadState(video.id)).status).toBe(404);
  });

  it('aborts a user upload through the user route, and refuses to abort a completed one', async () => {
    const response = await alice('/api/videos', {
      method: 'POST',
      body: JSON.stringify({ size_bytes: PART + 10 }),
    });
    const { video } = await json(response);
    expect((await alice(`/api/videos/${video.id}/upload`, { method: 'DELETE' })).status).toBe(204);
    expect((await alice(`/api/videos/${video.id}`)).status).toBe(404);

    const bytes = videoLikeBytes(100);
    const small = await register(bytes.length);
    await fetch(small.upload.url, { method: 'PUT', body: bytes, headers: small.upload.headers });
    expect((await complete(small.video.id)).status).toBe(200);
    const late = await manage(`/api/manage/videos/${small.video.id}/upload`, { method: 'DELETE' });
    expect(late.status).toBe(409);
  });
});
