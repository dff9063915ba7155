import { randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import os from 'node:os';
import path from 'node:path';

import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createManagementClient } from '../../client-sdk/src/server.js';
import { uploadFile } from '../src/cli/upload-file.js';
import { removeOrphanedSources } from '../src/generation/cleanup.js';
import { insertVideo } from '../src/videos/videos-repository.js';
import { UploadStatus } from '../src/db/schema.js';
import {
  api,
  seedEmbeddedDatabase,
  startTestServer,
  VARIANTS,
  type TestServer,
} from './helpers/test-server.js';
import { videoLikeBytes } from './helpers/media.js';

const MiB = 1024 * 1024;
const json = async (response: Response) => (await response.json()) as Record<string, any>;

describe.each(VARIANTS)('uploads bound to their registration (%s)', (variant) => {
  let server: TestServer;
  let manage: ReturnType<typeof api>;
  let alice: ReturnType<typeof api>;

  beforeAll(async () => {
    server = await startTestServer(variant, {
      CLEANUP_INTERVAL_SECONDS: '0',
      MULTIPART_THRESHOLD_BYTES: String(6 * MiB),
      MULTIPART_PART_BYTES: String(5 * MiB),
      MAX_UPLOAD_BYTES: String(800 * MiB),
    });
    manage = api(server, server.serviceApiKey);
    alice = api(server, await server.mintUserToken('alice'));
  });

  afterAll(async () => {
    await server?.close();
  });

  const register = async (body: Record<string, unknown>, call = manage, route = '/api/manage/videos') => {
    const response = await call(route, {
      method: 'POST',
      body: JSON.stringify({ owner_id: 'alice', ...body }),
    });
    return { status: response.status, body: await json(response) };
  };
  const complete = (id: string, body: unknown = {}) =>
    manage(`/api/manage/videos/${id}/upload/complete`, { method: 'POST', body: JSON.stringify(body) });
  const stored = async (key: string) => {
    const { body } = await server.storage.getObject(key);
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  };

  it('takes exactly the registered size once, and nothing after completion', async () => {
    const { body } = await register({ size_bytes: 10, content_type: 'video/mp4' });
    const { video, upload } = body;
    expect(upload.headers).toMatchObject({ 'content-type': 'video/mp4', 'if-none-match': '*' });
    const big = await fetch(upload.url, {
      method: 'PUT',
      body: videoLikeBytes(5 * MiB),
      headers: upload.headers,
    });
    expect(big.status).toBeGreaterThanOrEqual(400);
    expect(big.status).toBeLessThan(500);
    const short = await fetch(upload.url, {
      method: 'PUT',
      body: videoLikeBytes(5),
      headers: upload.headers,
    });
    expect(short.status).toBeGreaterThanOrEqual(400);
    expect(await server.storage.headObject(`videos/alice/${video.id}.mp4`)).toBeNull();

    const bytes = videoLikeBytes(10);
    const put = await fetch(upload.url, { method: 'PUT', body: bytes, headers: upload.headers });
    expect(put.status).toBe(200);
    expect((await complete(video.id)).status).toBe(200);

    // The same URL again, with another type or the same one: the stored source stays.
    for (const headers of [upload.headers, { ...upload.headers, 'content-type': 'text/html' }]) {
      const again = await fetch(upload.url, { method: 'PUT', body: videoLikeBytes(10), headers });
      expect(again.status).toBeGreaterThanOrEqual(400);
      expect(again.status).toBeLessThan(500);
    }
    expect((await stored(`videos/alice/${video.id}.mp4`)).equals(bytes)).toBe(true);
  });

  it('leaves no source behind a PUT after DELETE once cleanup has run', async () => {
    const { body } = await register({ size_bytes: 10 });
    const key = `videos/alice/${body.video.id}.mp4`;
    expect((await manage(`/api/manage/videos/${body.video.id}`, { method: 'DELETE' })).status).toBe(204);
    const late = await fetch(body.upload.url, {
      method: 'PUT',
      body: videoLikeBytes(10),
      headers: body.upload.headers,
    });
    if (variant === 'embedded') {
      // Local storage asks the registry before it takes a PUT.
      expect(late.status).toBe(403);
      expect(await json(late)).toMatchObject({ error: { code: 'upload_closed' } });
    } else {
      // A presigned S3 PUT cannot be recalled before it expires: cleanup removes what it stored.
      expect(late.status).toBe(200);
      expect(await server.storage.headObject(key)).not.toBeNull();
    }
    const logger = pino({ level: 'silent' });
    await removeOrphanedSources({ db: server.database.db, storage: server.storage, logger });
    expect(await server.storage.headObject(key)).toBeNull();
    // After the URL (and a day of grace) has expired the key is forgotten.
    await removeOrphanedSources({
      db: server.database.db,
      storage: server.storage,
      logger,
      now: new Date(Date.now() + 3 * 24 * 3600 * 1000),
    });
    const left = await server.database.db
      .selectFrom('orphaned_sources')
      .select('source_key')
      .where('source_key', '=', key)
      .execute();
    expect(left).toEqual([]);
  });

  it('refuses a size over MAX_UPLOAD_BYTES at registration, and a wrong stored size at completion, retryably', async () => {
    const over = await register({ size_bytes: 900 * MiB });
    expect(over.status).toBe(413);
    expect(over.body.error.code).toBe('payload_too_large');
    expect(over.body.error.message).toMatch(/MAX_UPLOAD_BYTES/);

    const { body } = await register({ size_bytes: 100 });
    const key = `videos/alice/${body.video.id}.mp4`;
    // Something else than the registered file got there (an older client, a hand copy).
    await server.storage.putObject(key, videoLikeBytes(60), { contentType: 'video/mp4' });
    const wrong = await complete(body.video.id);
    expect(wrong.status).toBe(409);
    expect((await json(wrong)).error.message).toMatch(/60 bytes but 100/);
    expect(await server.storage.headObject(key)).toBeNull();
    const put = await fetch(body.upload.url, {
      method: 'PUT',
      body: videoLikeBytes(100),
      headers: body.upload.headers,
    });
    expect(put.status).toBe(200);
    expect(await json(await complete(body.video.id))).toMatchObject({
      upload_status: 'complete',
      size_bytes: 100,
    });
  });

  it('answers the first 100 part URLs and the others on demand, in bounded batches', async () => {
    const size = 150 * 5 * MiB - 3;
    const { status, body } = await register({ size_bytes: size });
    expect(status).toBe(201);
    expect(body.upload).toMatchObject({ method: 'multipart', video_id: body.video.id, part_count: 150 });
    expect(body.upload.parts).toHaveLength(100);
    const parts = (numbers: unknown, call = manage, prefix = '/api/manage/videos') =>
      call(`${prefix}/${body.video.id}/upload/parts`, {
        method: 'POST',
        body: JSON.stringify({ part_numbers: numbers }),
      });
    const more = await parts(Array.from({ length: 50 }, (_, i) => 101 + i));
    expect(more.status).toBe(200);
    const answer = await json(more);
    expect(answer.parts.map((p: { part_number: number }) => p.part_number)).toEqual(
      Array.from({ length: 50 }, (_, i) => 101 + i),
    );
    expect((await parts(Array.from({ length: 101 }, (_, i) => i + 1))).status).toBe(400);
    expect((await parts([151])).status).toBe(400);
    expect((await parts([0])).status).toBe(400);
    // The user route, for a user's own upload.
    expect((await parts([120], alice, '/api/videos')).status).toBe(200);
    const bob = api(server, await server.mintUserToken('bob'));
    expect((await parts([120], bob, '/api/videos')).status).toBe(404);
    await manage(`/api/manage/videos/${body.video.id}`, { method: 'DELETE' });
  });

  it('uploads through batched part URLs from the SDK and the CLI', async () => {
    const bytes = videoLikeBytes(12 * MiB);
    const sdk = createManagementClient({ baseUrl: server.url, apiKey: server.serviceApiKey });
    const viaSdk = await sdk.registerVideo({ owner_id: 'alice', size_bytes: bytes.length });
    if (viaSdk.upload.method !== 'multipart') throw new Error('expected multipart');
    // As for a file past the first batch: only the first URL is given, the rest are asked for.
    const done = await sdk.uploadSource({ ...viaSdk.upload, parts: viaSdk.upload.parts.slice(0, 1) }, bytes);
    expect(await sdk.completeUpload(viaSdk.video.id, done)).toMatchObject({ size_bytes: bytes.length });
    expect((await stored(`videos/alice/${viaSdk.video.id}.mp4`)).equals(bytes)).toBe(true);

    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'notetaker-cli-'));
    try {
      const file = path.join(dir, 'big.bin');
      await fs.writeFile(file, bytes);
      // The CLI's upload: the resumable uploader with the management client.
      const video = await uploadFile({ manage: sdk, filePath: file, register: { owner_id: 'alice' } });
      expect(video).toMatchObject({ upload_status: 'complete', size_bytes: bytes.length });
      expect((await stored(`videos/alice/${video.id}.mp4`)).equals(bytes)).toBe(true);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('answers 400, never 500, to a part never uploaded, a wrong ETag or a duplicate part, and stays completable', async () => {
    const bytes = videoLikeBytes(5 * MiB + 1000 + 6 * MiB);
    const { body } = await register({ size_bytes: bytes.length });
    const [first, second] = body.upload.parts as Array<{ part_number: number; url: string }>;
    const one = await fetch(first!.url, { method: 'PUT', body: bytes.subarray(0, 5 * MiB) });
    expect(one.status).toBe(200);
    const etag1 = one.headers.get('etag')!;
    // Part 2 is not uploaded yet.
    const notUploaded = await complete(body.video.id, {
      parts: [
        { part_number: 1, etag: etag1 },
        { part_number: 2, etag: '"0123456789abcdef0123456789abcdef"' },
      ],
    });
    expect(notUploaded.status).toBe(400);
    const two = await fetch(second!.url, { method: 'PUT', body: bytes.subarray(5 * MiB, 10 * MiB) });
    expect(two.status).toBe(200);
    const etag2 = two.headers.get('etag')!;
    const wrongEtag = await complete(body.video.id, {
      parts: [
        { part_number: 1, etag: etag1 },
        { part_number: 2, etag: '"ffffffffffffffffffffffffffffffff"' },
      ],
    });
    expect(wrongEtag.status).toBe(400);
    const duplicate = await complete(body.video.id, {
      parts: [
        { part_number: 1, etag: etag1 },
        { part_number: 1, etag: etag1 },
        { part_number: 2, etag: etag2 },
      ],
    });
    expect(duplicate.status).toBe(400);
    for (const response of [notUploaded, wrongEtag, duplicate]) {
      expect((await json(response)).error.code).toBe('bad_request');
    }
    // A part of the wrong length is refused by storage itself (its length is signed).
    const third = body.upload.parts[2] as { url: string };
    const wrongLength = await fetch(third.url, {
      method: 'PUT',
      body: bytes.subarray(10 * MiB, 10 * MiB + 10),
    });
    expect(wrongLength.status).toBeGreaterThanOrEqual(400);
    const three = await fetch(third.url, { method: 'PUT', body: bytes.subarray(10 * MiB) });
    expect(three.status).toBe(200);
    const ok = await complete(body.video.id, {
      parts: [
        { part_number: 1, etag: etag1 },
        { part_number: 2, etag: etag2 },
        { part_number: 3, etag: three.headers.get('etag')! },
      ],
    });
    expect(ok.status).toBe(200);
  });

  it('refuses imports of generated objects or strange keys with 400, and deletes only its own objects', async () => {
    const owner = randomUUID();
    const segment = `videos/alice/${owner}_hls/segment0.ts`;
    await server.storage.putObject(segment, 'segment', { contentType: 'video/mp2t' });
    for (const key of [
      segment,
      `videos/alice/${owner}_hls/playlist.m3u8`,
      `videos/alice/${owner}_hls/360p-0a1b2c3d/segment0.ts`,
      `videos/alice/${owner}_captions/en.vtt`,
      '../secrets.json',
      'videos/../secrets.json',
      'videos/a\u0000.mp4',
      '/etc/passwd',
    ]) {
      const response = await manage('/api/manage/videos/import', {
        method: 'POST',
        body: JSON.stringify({ owner_id: 'mallory', source_key: key }),
      });
      expect(response.status, key).toBe(400);
      expect((await json(response)).error.code).toBe('bad_request');
    }
    // A row that names a generated object (registered before imports were checked) never deletes it.
    const id = randomUUID();
    await insertVideo(server.database.db, {
      id,
      owner_id: 'mallory',
      source_key: segment,
      upload_status: UploadStatus.Complete,
    });
    expect((await manage(`/api/manage/videos/${id}`, { method: 'DELETE' })).status).toBe(204);
    expect(await server.storage.headObject(segment)).not.toBeNull();
  });
});

describe('slow uploads (embedded)', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer('embedded', { UPLOAD_IDLE_TIMEOUT_SECONDS: '1' });
  });

  afterAll(async () => {
    await server?.close();
  });

  /** PUTs `size` bytes in `chunks` pieces, `gapMs` apart, stopping after `stopAfter` pieces when given. */
  const slowPut = (
    url: string,
    headers: Record<string, string>,
    size: number,
    chunks: number,
    gapMs: number,
    stopAfter?: number,
  ) =>
    new Promise<{ status?: number; error?: string; ms: number }>((resolve) => {
      const started = Date.now();
      const req = httpRequest(
        url,
        { method: 'PUT', headers: { ...headers, 'content-length': String(size) } },
        (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode!, ms: Date.now() - started }));
        },
      );
      req.on('error', (error) => resolve({ error: error.message, ms: Date.now() - started }));
      const piece = Math.ceil(size / chunks);
      let sent = 0;
      const send = (n: number) => {
        if (stopAfter !== undefined && n >= stopAfter) return;
        const length = Math.min(piece, size - sent);
        sent += length;
        if (sent >= size) req.end(Buffer.alloc(length, 1));
        else {
          req.write(Buffer.alloc(length, 1));
          setTimeout(() => send(n + 1), gapMs);
        }
      };
      send(0);
    });

  it('lets an upload that keeps sending run longer than the idle timeout, and cuts one that stalls', async () => {
    const manage = api(server, server.serviceApiKey);
    const register = async () =>
      json(
        await manage('/api/manage/videos', {
          method: 'POST',
          body: JSON.stringify({ owner_id: 'alice', size_bytes: 1000 }),
        }),
      );
    const slow = await register();
    const steady = await slowPut(slow.upload.url, slow.upload.headers, 1000, 10, 400);
    expect(steady.status).toBe(200);
    expect(steady.ms).toBeGreaterThan(3000);

    const stalled = await register();
    const cut = await slowPut(stalled.upload.url, stalled.upload.headers, 1000, 10, 100, 3);
    expect(cut.status).toBeUndefined();
    expect(cut.error).toBeDefined();
    expect(cut.ms).toBeLessThan(5000);
  });
});

describe('a full disk (embedded, storage on a 2 MB tmpfs)', () => {
  let server: TestServer | undefined;
  let objects: string | undefined;

  afterAll(async () => {
    await server?.close();
    if (objects) {
      execFileSync('umount', [objects]);
      await fs.rm(path.dirname(objects), { recursive: true, force: true });
    }
  });

  it('answers 507 insufficient_storage to an upload that does not fit', async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'notetaker-full-'));
    objects = path.join(dataDir, 'objects');
    await fs.mkdir(objects);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', objects]);
    await seedEmbeddedDatabase(dataDir);
    server = await startTestServer('embedded', { DATA_DIR: dataDir });
    const manage = api(server, server.serviceApiKey);
    const { upload } = await json(
      await manage('/api/manage/videos', {
        method: 'POST',
        body: JSON.stringify({ owner_id: 'alice', size_bytes: 3 * MiB }),
      }),
    );
    const put = await fetch(upload.url, {
      method: 'PUT',
      body: videoLikeBytes(3 * MiB),
      headers: upload.headers,
    });
    expect(put.status).toBe(507);
    expect(await json(put)).toMatchObject({ error: { code: 'insufficient_storage' } });
    // Nothing half-written is left taking the space.
    expect(await fs.readdir(path.join(objects, 'tmp'))).toEqual([]);
  });
});
