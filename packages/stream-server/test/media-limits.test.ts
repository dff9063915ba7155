import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { loadConfig } from '../src/config/load-config.js';
import { jobTimeoutMs } from '../src/jobs/job-timeout.js';
import { listVideoTasks } from '../src/tasks/video-tasks-repository.js';
import { makeTestMedia, runTestFfmpeg } from './helpers/media.js';
import { waitFor } from './helpers/processes.js';
import { api, startTestServer, waitForStream, type TestServer } from './helpers/test-server.js';

let mediaDir: string;

beforeAll(async () => {
  mediaDir = await fs.mkdtemp(path.join(os.tmpdir(), 'notetaker-limits-'));
});

afterAll(async () => {
  await fs.rm(mediaDir, { recursive: true, force: true });
});

async function generated(name: string, args: string[]): Promise<string> {
  const file = path.join(mediaDir, name);
  await runTestFfmpeg([...args, file]);
  return file;
}

async function row(server: TestServer, id: string) {
  return server.database.db.selectFrom('videos').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

/** Imports `file`, asks for the stream and waits for the outcome; also says how long that took. */
async function generate(server: TestServer, file: string) {
  const alice = api(server, await server.mintUserToken('alice'));
  const { id } = await server.importVideo(file, { ownerId: 'alice' });
  const started = Date.now();
  await alice(`/api/videos/${id}/stream`);
  const { body } = await waitForStream(alice, id, 120_000);
  return { id, body, ms: Date.now() - started };
}

describe('MAX_DURATION_SECONDS and MAX_PIXELS', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer('embedded', { MAX_DURATION_SECONDS: '60', MAX_PIXELS: '60000' });
  });

  afterAll(async () => {
    await server?.close();
  });

  it('refuses a long silent FLAC at once, with a message that names the setting', async () => {
    // 20 minutes of silence: a few hundred kB, but far over the limit.
    const flac = await generated('silence.flac', [
      ...['-f', 'lavfi', '-i', 'anullsrc=channel_layout=mono:sample_rate=8000', '-t', '1200'],
      ...['-c:a', 'flac'],
    ]);
    const { id, body, ms } = await generate(server, flac);
    expect(body).toMatchObject({
      status: 'failed',
      error_message: 'The video is 20 min long; this server accepts at most 1 min (MAX_DURATION_SECONDS).',
    });
    expect(ms).toBeLessThan(15_000);
    // Permanent: not retried.
    expect((await row(server, id)).hls_attempts).toBe(1);
  });

  it('refuses an MP4 over the limit whose index alone would have started a copy', async () => {
    const file = await generated('long.mp4', [
      ...['-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=5:duration=90'],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-movflags', '+faststart'],
    ]);
    const { body } = await generate(server, file);
    expect(body).toMatchObject({
      status: 'failed',
      error_message:
        'The video is 1 min 30 s long; this server accepts at most 1 min (MAX_DURATION_SECONDS).',
    });
  });

  it('refuses a picture larger than MAX_PIXELS', async () => {
    // 320×240 = 76,800 pixels > 60,000 (small test media, a low limit).
    const file = await makeTestMedia(mediaDir, 'h264-aac-faststart', { seconds: 2 });
    const { body } = await generate(server, file);
    expect(body['status']).toBe('failed');
    expect(body['error_message']).toBe(
      "The video's picture is 320×240 pixels; this server accepts at most 60,000 pixels per frame (MAX_PIXELS, e.g. 4096×2304).",
    );
  });
});

describe('what browsers cannot play is not copied', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer('embedded', { RENDITIONS: 'off' });
  });

  afterAll(async () => {
    await server?.close();
  });

  it('transcodes H.264 above level 5.2 instead of copying it as the top variant', async () => {
    const file = await generated('level62.mp4', [
      ...['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25:duration=3'],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-level', '6.2'],
      ...['-movflags', '+faststart'],
    ]);
    const { id, body } = await generate(server, file);
    expect(body['status']).toBe('ready');
    const video = await row(server, id);
    expect(video.hls_mode).toBe('transcode');
    const variant = JSON.parse(video.hls_variant ?? '{}') as { codecs?: string };
    // avc1.PPCCLL: the level byte of what is published is 5.2 (0x34) or lower.
    const level = parseInt(/avc1\.[0-9a-f]{4}([0-9a-f]{2})/i.exec(variant.codecs ?? '')?.[1] ?? 'ff', 16);
    expect(level).toBeLessThanOrEqual(52);
  });

  it('never states an absurd FRAME-RATE: 1000 fps video is transcoded at 60', async () => {
    const file = await generated('fast.mp4', [
      ...['-f', 'lavfi', '-i', 'testsrc2=size=96x64:rate=1000:duration=2'],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-movflags', '+faststart'],
    ]);
    const { id, body } = await generate(server, file);
    expect(body['status']).toBe('ready');
    const video = await row(server, id);
    expect(video.hls_mode).toBe('transcode');
    const variant = JSON.parse(video.hls_variant ?? '{}') as { frameRate?: number | null };
    expect(variant.frameRate ?? 0).toBeLessThanOrEqual(60);
    const master = await (await fetch(body['hls_url'] as string)).text();
    for (const match of master.matchAll(/FRAME-RATE=([\d.]+)/g))
      expect(Number(match[1])).toBeLessThanOrEqual(60);
  });
});

describe('a poster that cannot be made', () => {
  let server: TestServer;

  beforeAll(async () => {
    // ffmpeg as usual, except that it refuses to write a poster.
    const wrapper = path.join(mediaDir, 'ffmpeg-without-posters.sh');
    await fs.writeFile(
      wrapper,
      `#!/bin/sh\nfor a in "$@"; do case "$a" in *poster.jpg) echo "poster refused for this test" >&2; exit 1;; esac; done\nexec ffmpeg "$@"\n`,
      { mode: 0o755 },
    );
    server = await startTestServer('embedded', {
      FFMPEG_PATH: wrapper,
      JOB_MAX_ATTEMPTS: '1',
      RENDITIONS: 'off',
    });
  });

  afterAll(async () => {
    await server?.close();
  });

  it('fails the thumbnails task with the reason instead of leaving the poster out silently; the video plays on', async () => {
    const file = await makeTestMedia(mediaDir, 'h264-aac-faststart', { seconds: 2 });
    const { id, body } = await generate(server, file);
    expect(body['status']).toBe('ready');
    const task = await waitFor('the thumbnails task to end', async () => {
      const [found] = await listVideoTasks(server.database.db, id);
      return found && found.status !== 'pending' ? found : undefined;
    });
    expect(task).toMatchObject({ kind: 'thumbnails', status: 'failed' });
    expect(task.error_message).toMatch(/^The poster could not be made: .*/);
    expect((await row(server, id)).hls_status).toBe('ready');
  });
});

describe('the job time limit', () => {
  it('is capped by JOB_TIMEOUT_MAX_SECONDS (default 4 h) however long the media', () => {
    const { worker } = loadConfig({});
    expect(worker.timeoutMaxSeconds).toBe(4 * 3600);
    // 10 h of media: 120 + 3 × 36,000 s would be 30 h.
    expect(jobTimeoutMs(worker, 36_000)).toBe(4 * 3600 * 1000);
    expect(jobTimeoutMs(worker, 36_000, 2)).toBe(4 * 3600 * 1000);
    expect(jobTimeoutMs(worker, 10)).toBe((120 + 30) * 1000);
    const small = loadConfig({ JOB_TIMEOUT_MAX_SECONDS: '600' }).worker;
    expect(jobTimeoutMs(small, 3600)).toBe(600_000);
  });
});
