/**
 * The SDK against the real stream server, started in-process with its embedded defaults (PGlite, local
 * storage, system ffmpeg), on media generated here with ffmpeg.
 */
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startServer } from '@notetaker/stream-server';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createStreamClient, isStreamError, type StreamStatus } from '@notetaker/client-sdk';
import { createManagementClient } from '@notetaker/client-sdk/server';
import { createUserClient } from '@notetaker/client-sdk/user';

// Real server start (PGlite + migrations) and ffmpeg runs: slower than unit tests on a busy machine.
vi.setConfig({ testTimeout: 90_000, hookTimeout: 120_000 });

const run = promisify(execFile);
const FFMPEG = '/usr/bin/ffmpeg';
const OWNER = 'user-contract';
const MULTIPART_THRESHOLD = 6_000_000;
const PART_BYTES = 5 * 1024 * 1024;

/** A few seconds of H.264/AAC test pattern and tone; `noise` makes it large (incompressible). */
const makeVideo = async (file: string, { seconds = 3, noise = false } = {}) => {
  const video = noise
    ? ['-vf', 'noise=alls=30:allf=t', '-b:v', '24M', '-maxrate', '24M', '-bufsize', '8M']
    : ['-b:v', '500k'];
  await run(FFMPEG, [
    ...['-v', 'error', '-y'],
    ...['-f', 'lavfi', '-i', `testsrc2=size=640x360:rate=25`],
    ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100'],
    ...['-t', String(seconds), '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p'],
    ...video,
    ...['-c:a', 'aac', '-movflags', '+faststart', file],
  ]);
  return file;
};

let server: Awaited<ReturnType<typeof startServer>>;
let workDir: string;
let validMp4: string;
let corruptFile: string;

const userClient = async (sub = OWNER) =>
  createStreamClient({ baseUrl: server.url, token: await server.mintUserToken(sub) });
const manage = () => createManagementClient({ baseUrl: server.url, apiKey: server.serviceApiKey });

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'client-sdk-contract-'));
  validMp4 = await makeVideo(join(workDir, 'valid.mp4'));
  corruptFile = join(workDir, 'corrupt.mp4');
  await writeFile(corruptFile, randomBytes(256 * 1024));
  server = await startServer({
    env: {
      DATA_DIR: join(workDir, 'data'),
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

describe('user API', () => {
  it('goes from a first view through generating to ready with a playable playlist', async () => {
    const { id } = await server.importVideo(validMp4, { ownerId: OWNER, title: 'valid' });
    const client = await userClient();

    const first = await client.getStream(id);
    expect(first).toMatchObject({ status: 'generating' });
    expect((first as { retry_after: number }).retry_after).toBeGreaterThan(0);

    const seen: StreamStatus[] = [];
    const ready = await client.waitForStream(id, { timeout: 60_000, onStatus: (s) => seen.push(s) });
    expect(ready.status).toBe('ready');
    expect(seen.at(-1)).toEqual(ready);
    expect(Date.parse(ready.expires_at)).toBeGreaterThan(Date.now());

    const playlist = await fetch(ready.hls_url);
    expect(playlist.status).toBe(200);
    const text = await playlist.text();
    expect(text).toMatch(/^#EXTM3U/);
    expect(text).toContain('#EXT-X-ENDLIST');
    const segment = text.split('\n').find((line) => line && !line.startsWith('#'));
    const segmentAnswer = await fetch(new URL(segment!, ready.hls_url));
    expect(segmentAnswer.status).toBe(200);
    expect((await segmentAnswer.arrayBuffer()).byteLength).toBeGreaterThan(0);

    await expect(client.getVideo(id)).resolves.toMatchObject({ id, owner_id: OWNER, hls_status: 'ready' });
    expect((await client.listVideos()).map((v) => v.id)).toContain(id);
  });

  it('rejects with StreamFailedError for a corrupt source, and retryStream starts it again', async () => {
    const { id } = await server.importVideo(corruptFile, { ownerId: OWNER, title: 'corrupt' });
    const client = await userClient();

    const error = await client.waitForStream(id, { timeout: 60_000 }).catch((e: unknown) => e);
    expect(isStreamError(error)).toBe(true);
    expect(error).toMatchObject({ name: 'StreamFailedError', code: 'stream_failed' });
    expect((error as Error).message.length).toBeGreaterThan(0);

    const failed = await client.getStream(id);
    expect(failed).toEqual({ status: 'failed', error_message: (error as Error).message });

    await expect(client.retryStream(id)).resolves.toMatchObject({ status: 'generating' });
    await expect(client.waitForStream(id, { timeout: 60_000 })).rejects.toMatchObject({
      name: 'StreamFailedError',
    });
  });

  it('answers 404 not_found for an unknown video and for another user’s video', async () => {
    const { id } = await server.importVideo(validMp4, { ownerId: 'someone-else' });
    const client = await userClient();
    for (const videoId of [randomUUID(), id, 'not-a-uuid']) {
      await expect(client.waitForStream(videoId)).rejects.toMatchObject({
        name: 'StreamHttpError',
        status: 404,
        code: 'not_found',
      });
    }
  });

  it("hands the server's request id to the host on an error, as its logs record it", async () => {
    const client = await userClient();
    const error = await client.getVideo(randomUUID()).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'StreamHttpError', status: 404 });
    expect((error as { requestId?: string }).requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('refreshes a rejected token once through getToken', async () => {
    const { id } = await server.importVideo(validMp4, { ownerId: OWNER });
    const good = await server.mintUserToken(OWNER);
    const getToken = vi.fn(({ refresh }: { refresh: boolean }) => (refresh ? good : 'not-a-jwt'));
    const client = createStreamClient({ baseUrl: server.url, getToken });
    await expect(client.getStream(id)).resolves.toMatchObject({ status: 'generating' });
    expect(getToken).toHaveBeenCalledTimes(2);

    const neverValid = vi.fn(() => 'not-a-jwt');
    const rejected = createStreamClient({ baseUrl: server.url, getToken: neverValid });
    await expect(rejected.getStream(id)).rejects.toMatchObject({ status: 401, code: 'unauthorized' });
    expect(neverValid).toHaveBeenCalledTimes(2);
  });

  it('answers 409 upload_incomplete for a registered video that was never uploaded', async () => {
    const { video } = await manage().registerVideo({ owner_id: OWNER, size_bytes: 1000 });
    const client = await userClient();
    await expect(client.getStream(video.id)).rejects.toMatchObject({
      status: 409,
      code: 'upload_incomplete',
    });
  });
});

describe('management API', () => {
  it('uploads with one PUT, then the owner watches it; pre-generate, delete HLS and delete work', async () => {
    const bytes = await readFile(validMp4);
    const onProgress = vi.fn();
    const video = await manage().uploadVideo(
      { owner_id: OWNER, title: 'put upload', content_type: 'video/mp4' },
      bytes,
      { onProgress },
    );
    expect(video).toMatchObject({ owner_id: OWNER, title: 'put upload', upload_status: 'complete' });
    expect(onProgress).toHaveBeenLastCalledWith({ loaded: bytes.byteLength, total: bytes.byteLength });

    await expect(manage().generateStream(video.id)).resolves.toMatchObject({ status: 'generating' });
    const client = await userClient();
    await expect(client.waitForStream(video.id, { timeout: 60_000 })).resolves.toMatchObject({
      status: 'ready',
    });
    expect((await manage().listVideos(OWNER)).map((v) => v.id)).toContain(video.id);

    await manage().deleteStream(video.id);
    expect((await client.getVideo(video.id)).hls_status).not.toBe('ready');

    await manage().deleteVideo(video.id);
    await expect(client.getVideo(video.id)).rejects.toMatchObject({ status: 404 });
  });

  it('uploads a large source in parts that the server assembles into a playable video', async () => {
    const large = await makeVideo(join(workDir, 'large.mp4'), { noise: true });
    const bytes = await readFile(large);
    expect(bytes.byteLength).toBeGreaterThan(MULTIPART_THRESHOLD);

    const { video, upload } = await manage().registerVideo({
      owner_id: OWNER,
      title: 'multipart',
      content_type: 'video/mp4',
      size_bytes: bytes.byteLength,
    });
    expect(upload.method).toBe('multipart');
    const progress: number[] = [];
    const done = await manage().uploadSource(upload, new Blob([bytes]), {
      onProgress: ({ loaded }) => progress.push(loaded),
    });
    expect(done.parts?.map((p) => p.part_number)).toEqual([1, 2]);
    expect(progress.sort((a, b) => a - b).at(-1)).toBe(bytes.byteLength);
    await expect(manage().completeUpload(video.id, done)).resolves.toMatchObject({
      upload_status: 'complete',
    });

    const client = await userClient();
    await expect(client.waitForStream(video.id, { timeout: 60_000 })).resolves.toMatchObject({
      status: 'ready',
    });
  });

  it('registers an object already in the bucket with importVideo, which then plays', async () => {
    // An object written to the bucket by another tool, never registered.
    const sourceKey = `videos/${OWNER}/${randomUUID()}.mp4`;
    await server.storage.putFile(sourceKey, validMp4, { contentType: 'video/mp4' });

    const imported = await manage().importVideo({
      owner_id: OWNER,
      source_key: sourceKey,
      title: 'imported',
    });
    expect(imported).toMatchObject({ owner_id: OWNER, title: 'imported', upload_status: 'complete' });
    const client = await userClient();
    await expect(client.waitForStream(imported.id, { timeout: 60_000 })).resolves.toMatchObject({
      status: 'ready',
    });
  });

  it("keeps the host's external_id and metadata, finds a video by them and by title, and changes them", async () => {
    const owner = `user-details-${randomUUID().slice(0, 8)}`;
    const { video } = await manage().registerVideo({
      owner_id: owner,
      title: 'Weekly sync',
      size_bytes: 1000,
      external_id: 'rec-1',
      metadata: { meeting_id: 'm-1', attendees: ['ana', 'bo'] },
    });
    expect(video).toMatchObject({
      external_id: 'rec-1',
      metadata: { meeting_id: 'm-1', attendees: ['ana', 'bo'] },
    });
    await manage().registerVideo({ owner_id: owner, title: 'Retro', size_bytes: 1000 });

    expect((await manage().videoByExternalId(owner, 'rec-1'))?.id).toBe(video.id);
    expect(await manage().videoByExternalId(owner, 'rec-2')).toBeUndefined();
    const titles = [];
    for await (const found of manage().videos({ owner_id: owner, q: 'SYNC' })) titles.push(found.title);
    expect(titles).toEqual(['Weekly sync']);

    const updated = await manage().updateVideo(video.id, {
      metadata: { meeting_id: 'm-2' },
      external_id: 'rec-2',
    });
    expect(updated).toMatchObject({
      title: 'Weekly sync',
      external_id: 'rec-2',
      metadata: { meeting_id: 'm-2' },
    });
    const user = createUserClient({ baseUrl: server.url, token: await server.mintUserToken(owner) });
    expect((await user.videoByExternalId('rec-2'))?.id).toBe(video.id);
    expect(await user.updateVideo(video.id, { title: null })).toMatchObject({
      title: null,
      external_id: 'rec-2',
    });

    const other = await manage().registerVideo({ owner_id: owner, size_bytes: 1000 });
    await expect(manage().updateVideo(other.video.id, { external_id: 'rec-2' })).rejects.toMatchObject({
      name: 'StreamHttpError',
      status: 409,
      code: 'conflict',
      requestId: expect.any(String),
    });
  });

  it('adds, replaces, lists and deletes caption tracks; a track puts a master playlist with subtitles in /stream', async () => {
    const { id } = await server.importVideo(validMp4, { ownerId: OWNER, title: 'captions' });
    const client = await userClient();
    const first = await client.waitForStream(id, { timeout: 60_000 });
    expect(first.hls_url).toContain('/playlist.m3u8');

    const vtt = 'WEBVTT\n\n00:00.000 --> 00:02.500\nOlá\n';
    const added = await manage().putCaption(id, 'pt-br', vtt, { default: true });
    expect(added).toMatchObject({ language: 'pt-BR', label: 'Portuguese (Brazil)', default: true });
    const replaced = await manage().putCaption(id, 'pt-BR', new TextEncoder().encode(vtt), {
      label: 'Português',
    });
    expect(replaced).toMatchObject({ language: 'pt-BR', label: 'Português', default: true });
    expect(await manage().listCaptions(id)).toEqual([replaced]);

    const malformed = await manage()
      .putCaption(id, 'en', 'WEBVTT\n\n00:00.000 -> 00:01.000\nHi\n')
      .catch((e: unknown) => e);
    expect(malformed).toMatchObject({ name: 'StreamHttpError', status: 400, code: 'bad_request' });
    expect((malformed as Error).message).toContain('Line 4:');

    const ready = await client.getStream(id);
    expect(ready.status).toBe('ready');
    const hlsUrl = (ready as { hls_url: string }).hls_url;
    expect(hlsUrl).toContain('/master.m3u8');
    const master = await (await fetch(hlsUrl)).text();
    expect(master).toMatch(/#EXT-X-MEDIA:TYPE=SUBTITLES,.*LANGUAGE="pt-BR"/);
    expect(master).toContain('NAME="Português"');

    await manage().deleteCaption(id, 'pt-BR');
    expect(await manage().listCaptions(id)).toEqual([]);
    await expect(manage().deleteCaption(id, 'pt-BR')).rejects.toMatchObject({ status: 404 });
  });

  it('refuses to import a key that holds no object', async () => {
    await expect(
      manage().importVideo({ owner_id: OWNER, source_key: `videos/${OWNER}/${randomUUID()}.mp4` }),
    ).rejects.toMatchObject({ name: 'StreamHttpError', status: 400 });
  });
});
