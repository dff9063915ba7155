import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createPlaybackTokens } from '../src/auth/playback-tokens.js';
import { listVideoTasks } from '../src/tasks/video-tasks-repository.js';
import { FFPROBE_PATH, makeTestMedia } from './helpers/media.js';
import {
  api,
  startTestServer,
  VARIANTS,
  waitForReadyWith,
  waitForStream,
  type TestServer,
} from './helpers/test-server.js';

const run = promisify(execFile);

const SECONDS = 8;

async function imageSize(bytes: Uint8Array): Promise<{ width: number; height: number }> {
  const file = path.join(os.tmpdir(), `notetaker-image-${randomBytes(6).toString('hex')}.jpg`);
  await fs.writeFile(file, bytes);
  try {
    const { stdout } = await run(FFPROBE_PATH, [
      ...['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height,codec_name'],
      ...['-of', 'json', file],
    ]);
    const stream = (
      JSON.parse(stdout) as { streams: Array<{ width: number; height: number; codec_name: string }> }
    ).streams[0]!;
    expect(stream.codec_name).toBe('mjpeg');
    return { width: stream.width, height: stream.height };
  } finally {
    await fs.rm(file, { force: true });
  }
}

const isJpeg = (bytes: Uint8Array) => bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;

const seconds = (time: string) => {
  const [h, m, s] = time.split(':');
  return Number(h) * 3600 + Number(m) * 60 + Number(s);
};

interface Cue {
  start: number;
  end: number;
  url: string;
  xywh: [number, number, number, number];
}

function parseStoryboard(vtt: string): Cue[] {
  expect(vtt.startsWith('WEBVTT')).toBe(true);
  const cues: Cue[] = [];
  const lines = vtt.split(/\r?\n/);
  for (let i = 0; i < lines.length; i += 1) {
    const timing = /^(\d+:\d{2}:\d{2}\.\d{3}) --> (\d+:\d{2}:\d{2}\.\d{3})$/.exec(lines[i]!);
    if (!timing) continue;
    const [url, fragment] = lines[i + 1]!.split('#xywh=');
    const xywh = fragment!.split(',').map(Number) as Cue['xywh'];
    cues.push({ start: seconds(timing[1]!), end: seconds(timing[2]!), url: url!, xywh });
  }
  return cues;
}

describe.each(VARIANTS)('posters and storyboards (%s)', (variant) => {
  const playbackSecret = randomBytes(32).toString('hex');
  let server: TestServer;
  let mediaDir: string;
  let videoId: string;
  let ready: Record<string, unknown>;
  let alice: ReturnType<typeof api>;

  beforeAll(async () => {
    mediaDir = await fs.mkdtemp(path.join(os.tmpdir(), 'notetaker-media-'));
    server = await startTestServer(variant, { PLAYBACK_SECRET: playbackSecret });
    alice = api(server, await server.mintUserToken('alice'));
    const file = await makeTestMedia(mediaDir, 'h264-aac-faststart', { seconds: SECONDS });
    videoId = (await server.importVideo(file, { ownerId: 'alice' })).id;
    await alice(`/api/videos/${videoId}/stream`);
    // `ready` comes first (the video plays at once); poster and storyboard follow from a task of their own.
    const first = await waitForStream(alice, videoId);
    expect(first.body['status']).toBe('ready');
    expect((await listVideoTasks(server.database.db, videoId)).map((task) => task.kind)).toContain(
      'thumbnails',
    );
    ready = await waitForReadyWith(
      alice,
      videoId,
      (body) => 'poster_url' in body && 'storyboard_url' in body,
    );
  });

  afterAll(async () => {
    await server?.close();
    if (mediaDir) await fs.rm(mediaDir, { recursive: true, force: true });
  });

  it('answers a ready video with a poster: a JPEG frame of the video', async () => {
    const posterUrl = ready['poster_url'] as string;
    expect(posterUrl).toMatch(new RegExp(`/api/videos/${videoId}/poster\\.jpg\\?token=`));
    const redirect = await fetch(posterUrl, { redirect: 'manual' });
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get('cache-control')).toBe('private');
    const response = await fetch(redirect.headers.get('location')!);
    expect(response.status).toBe(200);
    const bytes = new Uint8Array(await response.arrayBuffer());
    expect(isJpeg(bytes)).toBe(true);
    expect(await imageSize(bytes)).toEqual({ width: 320, height: 240 });
  });

  it('answers a storyboard whose cues cover the whole video and point inside the sprite', async () => {
    const storyboardUrl = ready['storyboard_url'] as string;
    expect(storyboardUrl).toMatch(new RegExp(`/api/videos/${videoId}/storyboard\\.vtt\\?token=`));
    const response = await fetch(storyboardUrl);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/vtt/);
    const cues = parseStoryboard(await response.text());
    expect(cues.length).toBeGreaterThan(1);
    expect(cues.length).toBeLessThanOrEqual(100);
    const interval = cues[0]!.end - cues[0]!.start;
    expect(cues[0]!.start).toBe(0);
    expect(cues.at(-1)!.end).toBeGreaterThanOrEqual(SECONDS - interval);
    for (let i = 1; i < cues.length; i += 1) expect(cues[i]!.start).toBeCloseTo(cues[i - 1]!.end, 3);

    // Every cue names the same absolute, presigned sprite; each rectangle lies inside it.
    const spriteUrls = new Set(cues.map((cue) => cue.url));
    expect(spriteUrls.size).toBe(1);
    const spriteUrl = [...spriteUrls][0]!;
    expect(spriteUrl).toMatch(/^https?:\/\//);
    const sprite = await fetch(spriteUrl);
    expect(sprite.status).toBe(200);
    const bytes = new Uint8Array(await sprite.arrayBuffer());
    expect(isJpeg(bytes)).toBe(true);
    const size = await imageSize(bytes);
    for (const {
      xywh: [x, y, w, h],
    } of cues) {
      expect(w).toBe(160);
      expect(h).toBe(120);
      expect(x + w).toBeLessThanOrEqual(size.width);
      expect(y + h).toBeLessThanOrEqual(size.height);
    }
  });

  it('refuses poster and storyboard URLs without a playback token or with a tampered one', async () => {
    for (const name of ['poster_url', 'storyboard_url']) {
      const url = new URL(ready[name] as string);
      const tampered = new URL(url);
      tampered.searchParams.set('token', `${url.searchParams.get('token')!}x`);
      const missing = new URL(url);
      missing.searchParams.delete('token');
      for (const bad of [tampered, missing]) {
        const response = await fetch(bad, { redirect: 'manual' });
        expect(response.status, `${name} ${bad.search}`).toBe(401);
        expect(await response.json()).toMatchObject({ error: { code: 'unauthorized' } });
      }
    }
  });

  it("answers 404 for another user's video, even with a valid playback token naming it", async () => {
    // A correctly signed token for bob naming alice's video: ownership is checked in the database on every request.
    const { token } = await createPlaybackTokens(playbackSecret).mint({ userId: 'bob', videoId }, 300);
    for (const file of ['poster.jpg', 'storyboard.vtt']) {
      const response = await fetch(
        `${server.url}/api/videos/${videoId}/${file}?token=${encodeURIComponent(token)}`,
        {
          redirect: 'manual',
        },
      );
      expect(response.status, file).toBe(404);
      expect(await response.json()).toMatchObject({ error: { code: 'not_found' } });
    }
  });

  it('makes neither for an audio-only video, which is still ready', async () => {
    const file = await makeTestMedia(mediaDir, 'audio-only-m4a', { seconds: 4 });
    const id = (await server.importVideo(file, { ownerId: 'alice' })).id;
    await alice(`/api/videos/${id}/stream`);
    const { status, body } = await waitForStream(alice, id);
    expect(status).toBe(200);
    expect(body['status']).toBe('ready');
    expect(body).not.toHaveProperty('poster_url');
    expect(body).not.toHaveProperty('storyboard_url');
    // Not "not yet": no thumbnails task was queued at all.
    expect(await listVideoTasks(server.database.db, id)).toEqual([]);
    const token = new URL(body['hls_url'] as string).searchParams.get('token')!;
    const poster = await fetch(
      `${server.url}/api/videos/${id}/poster.jpg?token=${encodeURIComponent(token)}`,
      {
        redirect: 'manual',
      },
    );
    expect(poster.status).toBe(404);
  });

  it('removes poster and storyboard with the video', async () => {
    const file = await makeTestMedia(mediaDir, 'h264-aac-faststart', { seconds: 3 });
    const id = (await server.importVideo(file, { ownerId: 'alice' })).id;
    await alice(`/api/videos/${id}/stream`);
    const body = await waitForReadyWith(alice, id, (answer) => 'poster_url' in answer);
    const posterLocation = (await fetch(body['poster_url'] as string, { redirect: 'manual' })).headers.get(
      'location',
    )!;
    expect((await fetch(posterLocation)).status).toBe(200);
    const manage = api(server, server.serviceApiKey);
    expect((await manage(`/api/manage/videos/${id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await fetch(body['poster_url'] as string, { redirect: 'manual' })).status).toBe(404);
    expect((await fetch(body['storyboard_url'] as string)).status).toBe(404);
    expect((await fetch(posterLocation)).status).toBe(404);
  });
});
