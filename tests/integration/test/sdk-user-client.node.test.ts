/**
 * The SDK's user client (`@notetaker/client-sdk/user`) and its one uploader against the real stream server, started
 * in-process with its embedded defaults (PGlite, local storage, user uploads and the local sign-in on): progress,
 * part URLs fetched in batches, and a single PUT whose answer was lost and whose retry storage answers 412.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startServer } from '@notetaker/stream-server';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  createUserClient,
  fetchPut,
  isStreamError,
  uploadSource,
  type PutTransport,
  type UploadProgress,
} from '@notetaker/client-sdk/user';
import { createManagementClient } from '@notetaker/client-sdk/server';

vi.setConfig({ testTimeout: 90_000, hookTimeout: 120_000 });

const run = promisify(execFile);
const FFMPEG = '/usr/bin/ffmpeg';
const PART_BYTES = 5 * 1024 * 1024;
const MULTIPART_THRESHOLD = 6_000_000;
const noWait = { sleep: async () => {} };

/**
 * Random bytes that open like an MP4 (an `ftyp` box): completion's fail-fast check takes them, generation's full
 * probe refuses them.
 */
const videoLikeBytes = (size: number) => {
  const bytes = randomBytes(size);
  Buffer.from('000000186674797069736f6d0000020069736f6d6d703431', 'hex').copy(bytes);
  return bytes;
};

let server: Awaited<ReturnType<typeof startServer>>;
let workDir: string;

/** Requests the user client sends to the API, as `METHOD path`. */
const recordingFetch = (log: string[]): typeof fetch => {
  return (input, init) => {
    const url = new URL(String(input instanceof Request ? input.url : input));
    log.push(`${init?.method ?? 'GET'} ${url.pathname}`);
    return fetch(input, init);
  };
};

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'client-sdk-user-'));
  server = await startServer({
    env: {
      DATA_DIR: join(workDir, 'data'),
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'silent',
      FFMPEG_PATH: FFMPEG,
      FFPROBE_PATH: '/usr/bin/ffprobe',
      STREAM_RETRY_AFTER_SECONDS: '1',
      WORKER_POLL_MS: '100',
      MULTIPART_THRESHOLD_BYTES: String(MULTIPART_THRESHOLD),
      MULTIPART_PART_BYTES: String(PART_BYTES),
    },
    logger: 'silent',
  });
});

afterAll(async () => {
  await server?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe('createUserClient', () => {
  it('signs in locally, uploads with progress, plays, captions, and deletes its own video', async () => {
    const anonymous = createUserClient({ baseUrl: server.url, getToken: () => '' });
    const { token, user } = await anonymous.devToken('user-sdk');
    expect(user).toBe('user-sdk');
    const client = createUserClient({ baseUrl: server.url, token });

    const file = join(workDir, 'clip.mp4');
    await run(FFMPEG, [
      ...['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-t', '2'],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', file],
    ]);
    const { openAsBlob } = await import('node:fs');
    const source = await openAsBlob(file, { type: 'video/mp4' });
    const progress: UploadProgress[] = [];
    const video = await client.uploadVideo({ title: 'Mine' }, source, {
      onProgress: (p) => progress.push(p),
    });
    expect(video).toMatchObject({ owner_id: 'user-sdk', title: 'Mine', upload_status: 'complete' });
    expect(progress.at(-1)).toEqual({ loaded: source.size, total: source.size });
    expect((await client.listVideos()).map((v) => v.id)).toContain(video.id);

    const ready = await client.waitForStream(video.id, { timeout: 60_000 });
    expect((await fetch(ready.hls_url)).status).toBe(200);

    const caption = await client.putCaption(video.id, 'en', 'WEBVTT\n\n00:00.000 --> 00:01.000\nHello\n', {
      default: true,
    });
    expect(caption).toMatchObject({ language: 'en', default: true });
    expect((await client.listCaptions(video.id)).map((c) => c.language)).toEqual(['en']);
    const bad = await client.putCaption(video.id, 'fr', 'not webvtt').catch((e: unknown) => e);
    expect(isStreamError(bad) && bad.status).toBe(400);
    await client.deleteCaption(video.id, 'en');
    expect(await client.listCaptions(video.id)).toEqual([]);

    // Another user sees none of it.
    const other = createUserClient({
      baseUrl: server.url,
      token: await server.mintUserToken('someone-else'),
    });
    const foreign = await other.deleteVideo(video.id).catch((e: unknown) => e);
    expect(isStreamError(foreign) && foreign.status).toBe(404);

    await client.deleteVideo(video.id);
    expect((await client.listVideos()).map((v) => v.id)).not.toContain(video.id);
  });

  it('restarts a failed generation with retryStream', async () => {
    const token = await server.mintUserToken('user-retry');
    const client = createUserClient({ baseUrl: server.url, token });
    const video = await client.uploadVideo({ title: 'noise' }, videoLikeBytes(64 * 1024));
    const failed = await client.waitForStream(video.id, { timeout: 60_000 }).catch((e: unknown) => e);
    expect(isStreamError(failed) && failed.name).toBe('StreamFailedError');
    await expect(client.retryStream(video.id)).resolves.toMatchObject({ status: 'generating' });
  });
});

describe('the shared uploader', () => {
  it('asks for part URLs past the first batch and reports bytes while each part streams', async () => {
    const token = await server.mintUserToken('user-parts');
    const log: string[] = [];
    const client = createUserClient({ baseUrl: server.url, token, fetch: recordingFetch(log) });
    const bytes = videoLikeBytes(2 * PART_BYTES + 1000);
    const { video, upload } = await client.registerVideo({ size_bytes: bytes.length });
    if (upload.method !== 'multipart') throw new Error('expected a multipart upload');
    expect(upload.part_count).toBe(3);
    const progress: number[] = [];
    const done = await client.uploadSource({ ...upload, parts: upload.parts.slice(0, 1) }, bytes, {
      concurrency: 1,
      put: fetchPut({ stream: true }),
      onProgress: ({ loaded, total }) => {
        expect(total).toBe(bytes.length);
        progress.push(loaded);
      },
    });
    // One request for the URLs of parts 2 and 3, made when part 2 needed one.
    expect(log.filter((l) => l.endsWith('/upload/parts'))).toEqual([
      `POST /api/videos/${video.id}/upload/parts`,
    ]);
    expect(done.parts?.map((p) => p.part_number)).toEqual([1, 2, 3]);
    expect(progress.at(-1)).toBe(bytes.length);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    // Bytes counted while a part was sending, not only at the ends of parts.
    expect(progress.some((n) => n % PART_BYTES !== 0 && n !== bytes.length)).toBe(true);
    await expect(client.completeUpload(video.id, done)).resolves.toMatchObject({
      upload_status: 'complete',
      size_bytes: bytes.length,
    });
  });

  it('counts a retried single PUT that storage answers 412 as stored, and a first 412 as a refusal', async () => {
    const manage = createManagementClient({ baseUrl: server.url, apiKey: server.serviceApiKey });
    const bytes = videoLikeBytes(64 * 1024);
    const { video, upload } = await manage.registerVideo({
      owner_id: 'user-412',
      content_type: 'video/mp4',
      size_bytes: bytes.length,
    });
    expect(upload.method).toBe('PUT');
    if (upload.method !== 'PUT') return;
    expect(upload.headers?.['if-none-match']).toBe('*');

    // The first PUT is stored, but its answer never arrives; the retry finds the object there already.
    const statuses: number[] = [];
    let calls = 0;
    const loseFirstAnswer: PutTransport = async (request) => {
      const answer = await fetchPut()(request);
      statuses.push(answer.status);
      if (++calls === 1) throw new TypeError('connection reset');
      return answer;
    };
    const done = await uploadSource(upload, bytes, { put: loseFirstAnswer, clock: noWait });
    expect(statuses).toEqual([200, 412]);

    // Without an earlier attempt, 412 means the URL was used already: a refusal.
    const again = await uploadSource(upload, bytes, { clock: noWait }).catch((e: unknown) => e);
    expect(isStreamError(again) && again.status).toBe(412);

    await expect(manage.completeUpload(video.id, done)).resolves.toMatchObject({
      upload_status: 'complete',
      size_bytes: bytes.length,
    });
  });
});
