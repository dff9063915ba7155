import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { probeHlsDuration, segmentUris } from './helpers/hls.js';
import { makeTestMedia } from './helpers/media.js';
import { writeFfprobeReportingHevc } from './helpers/processes.js';
import { api, startTestServer, VARIANTS, waitForStream, type TestServer } from './helpers/test-server.js';

describe.each(VARIANTS)('the /stream flow (%s)', (variant) => {
  let server: TestServer;
  let mediaDir: string;
  let user: ReturnType<typeof api>;

  beforeAll(async () => {
    mediaDir = await fs.mkdtemp(path.join(os.tmpdir(), 'notetaker-media-'));
    server = await startTestServer(variant);
    user = api(server, await server.mintUserToken('alice'));
  });

  afterAll(async () => {
    await server?.close();
    await fs.rm(mediaDir, { recursive: true, force: true });
  });

  it('goes 202 generating → 200 ready, and the playlist plays the whole source from the bucket', async () => {
    const file = await makeTestMedia(mediaDir, 'h264-aac-faststart', { seconds: 14 });
    const { id } = await server.importVideo(file, { ownerId: 'alice', title: 'Faststart' });

    const first = await user(`/api/videos/${id}/stream`);
    expect(first.status).toBe(202);
    expect(first.headers.get('retry-after')).toBe('2');
    expect(await first.json()).toMatchObject({ status: 'generating', retry_after: 2 });

    const { status, body } = await waitForStream(user, id);
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: 'ready' });
    expect(typeof body['hls_url']).toBe('string');
    expect(new Date(body['expires_at'] as string).getTime()).toBeGreaterThan(Date.now() + 60 * 60 * 1000);

    const playlistResponse = await fetch(body['hls_url'] as string);
    expect(playlistResponse.status).toBe(200);
    expect(playlistResponse.headers.get('content-type')).toContain('mpegurl');
    const playlist = await playlistResponse.text();
    expect(playlist).toContain('#EXT-X-ENDLIST');
    const segments = segmentUris(playlist);
    expect(segments.length).toBeGreaterThanOrEqual(2);
    for (const uri of segments) {
      expect(uri).toMatch(/^https?:\/\//);
      const segment = await fetch(uri);
      expect(segment.status).toBe(200);
      expect((await segment.arrayBuffer()).byteLength).toBeGreaterThan(0);
    }
    expect(await probeHlsDuration(body['hls_url'] as string)).toBeCloseTo(14, 0);

    const video = (await (await user(`/api/videos/${id}`)).json()) as Record<string, unknown>;
    expect(video).toMatchObject({
      id,
      hls_status: 'ready',
      upload_status: 'complete',
      hls_error_message: null,
    });
    expect(video['duration_seconds'] as number).toBeCloseTo(14, 0);
  });

  it('reads a moov-at-end source (by range requests from a bucket, from its file locally) and makes a complete playlist', async () => {
    const file = await makeTestMedia(mediaDir, 'h264-aac-moov-end', { seconds: 10 });
    const { id } = await server.importVideo(file, { ownerId: 'alice' });
    await user(`/api/videos/${id}/stream`);
    const { body } = await waitForStream(user, id);
    expect(body['status']).toBe('ready');
    expect(await probeHlsDuration(body['hls_url'] as string)).toBeCloseTo(10, 0);
  });

  it('transcodes VP9/Opus WebM to a playable H.264 stream', async () => {
    const file = await makeTestMedia(mediaDir, 'vp9-opus-webm', { seconds: 8 });
    const { id } = await server.importVideo(file, { ownerId: 'alice' });
    await user(`/api/videos/${id}/stream`);
    const { body } = await waitForStream(user, id, 120_000);
    expect(body['status']).toBe('ready');
    expect(await probeHlsDuration(body['hls_url'] as string)).toBeCloseTo(8, 0);
  });

  it('transcodes HEVC (not playable from TS segments everywhere) to H.264', async () => {
    const file = await makeTestMedia(mediaDir, 'hevc-mp4', { seconds: 6 });
    const { id } = await server.importVideo(file, { ownerId: 'alice' });
    await user(`/api/videos/${id}/stream`);
    const { body } = await waitForStream(user, id, 120_000);
    expect(body['status']).toBe('ready');
    expect(await probeHlsDuration(body['hls_url'] as string)).toBeCloseTo(6, 0);
  });

  it('makes audio-only inputs into an audio HLS stream', async () => {
    const file = await makeTestMedia(mediaDir, 'audio-only-mp3', { seconds: 8 });
    const { id } = await server.importVideo(file, { ownerId: 'alice' });
    await user(`/api/videos/${id}/stream`);
    const { body } = await waitForStream(user, id);
    expect(body['status']).toBe('ready');
    expect(await probeHlsDuration(body['hls_url'] as string)).toBeCloseTo(8, 0);
  });

  it.each([
    ['truncated-mp4', /incomplete|damaged/i],
    ['random-bytes', /not a video|read|invalid|recogni/i],
    ['zero-bytes', /empty|not a video|read|invalid/i],
  ] as const)(
    'ends a %s upload as failed with a readable message and nothing published',
    async (kind, pattern) => {
      const file = await makeTestMedia(mediaDir, kind, { seconds: 12 });
      const { id } = await server.importVideo(file, { ownerId: 'alice' });
      await user(`/api/videos/${id}/stream`);
      const { status, body } = await waitForStream(user, id);
      expect(status).toBe(200);
      expect(body['status']).toBe('failed');
      expect(body['error_message']).toMatch(pattern);
      expect(body['error_message']).not.toMatch(/ffmpeg|stderr|\/tmp\//i);
      expect(await server.storage.listObjects(`videos/alice/${id}_hls/`)).toEqual([]);

      // Retry restarts it (and it fails the same way again, without a half-made stream).
      const retry = await user(`/api/videos/${id}/stream/retry`, { method: 'POST' });
      expect(retry.status).toBe(202);
      const again = await waitForStream(user, id);
      expect(again.body['status']).toBe('failed');
    },
  );

  it('answers 409 to a retry of a ready video', async () => {
    const file = await makeTestMedia(mediaDir, 'h264-aac-faststart', { seconds: 6 });
    const { id } = await server.importVideo(file, { ownerId: 'alice' });
    await user(`/api/videos/${id}/stream`);
    await waitForStream(user, id);
    const retry = await user(`/api/videos/${id}/stream/retry`, { method: 'POST' });
    expect(retry.status).toBe(409);
    expect(await retry.json()).toMatchObject({ error: { code: 'not_failed' } });
  });
});

describe('a first attempt whose ffprobe disagrees with the MP4 index (embedded)', () => {
  let server: TestServer;
  let dir: string;

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'notetaker-disagree-'));
    const lyingProbe = await writeFfprobeReportingHevc(dir);
    server = await startTestServer('embedded', { FFPROBE_PATH: lyingProbe });
  });

  afterAll(async () => {
    await server?.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('is retried the careful way (probe first) and ends ready with what the probe chose', async () => {
    const file = await makeTestMedia(dir, 'h264-aac-faststart', { seconds: 4 });
    const { id } = await server.importVideo(file, { ownerId: 'alice' });
    const user = api(server, await server.mintUserToken('alice'));
    const { status, body } = await waitForStream(user, id);
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: 'ready' });
    const row = await server.database.db
      .selectFrom('videos')
      .select(['hls_attempts', 'hls_mode'])
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    // The first attempt took the shortcut and failed at the check; the second probed first and transcoded.
    expect(row).toEqual({ hls_attempts: 2, hls_mode: 'transcode' });
  });
});
