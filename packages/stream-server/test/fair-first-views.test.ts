import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { FFMPEG_PATH, FFPROBE_PATH, makeTestMedia } from './helpers/media.js';
import { api, startTestServer, VARIANTS, waitForStream, type TestServer } from './helpers/test-server.js';

// Scheduling of first views (docs/decisions/0014-fair-first-views.md): simultaneous first views of distinct videos
// run side by side, each video's first segments come before the rest of any video, the worker's media processes
// stay within MEDIA_MAX_PROCESSES, and a first view beyond the bound is told honestly when to look again.

type Call = ReturnType<typeof api>;

interface StreamBody {
  status: string;
  playable?: boolean;
  retry_after?: number;
}

async function streamOf(call: Call, id: string): Promise<{ status: number; body: StreamBody }> {
  const response = await call(`/api/videos/${id}/stream`);
  return { status: response.status, body: (await response.json()) as StreamBody };
}

/**
 * Follows one video's `/stream` until `ready`, appending `playable:<id>` the first time an answer is playable and
 * `ready:<id>` when it is ready (a ready answer is playable too).
 */
async function follow(call: Call, id: string, events: string[]): Promise<void> {
  const deadline = Date.now() + 240_000;
  let playable = false;
  for (;;) {
    const { status, body } = await streamOf(call, id);
    if (status !== 200 && status !== 202)
      throw new Error(`/stream answered ${status}: ${JSON.stringify(body)}`);
    if (!playable && (body.status === 'ready' || body.playable === true)) {
      playable = true;
      events.push(`playable:${id}`);
    }
    if (body.status === 'ready') {
      events.push(`ready:${id}`);
      return;
    }
    if (Date.now() > deadline) throw new Error(`video ${id} is still generating`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Media processes started from `dir` (through the symlinks there) that run now. */
async function countProcesses(dir: string): Promise<number> {
  let count = 0;
  for (const entry of await fs.readdir('/proc').catch(() => [])) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await fs.readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.startsWith(dir + path.sep)) count += 1;
  }
  return count;
}

describe.each(VARIANTS)('fair first views (%s)', (variant) => {
  let dir: string;
  let server: TestServer | undefined;

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'notetaker-fair-'));
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('simultaneous first views of distinct videos all become playable before any of them is finished', async () => {
    server = await startTestServer(variant, { MEDIA_MAX_TRANSCODES: '4', RENDITIONS: 'off' });
    expect(server.config.worker.concurrency).toBeGreaterThanOrEqual(4); // not one generation per core
    // Transcodes (VP9/Opus): each must reach its first segment while the others encode the rest of theirs.
    const file = await makeTestMedia(dir, 'vp9-opus-webm', { seconds: 20 });
    const ids: string[] = [];
    for (let i = 0; i < 4; i += 1) ids.push((await server.importVideo(file, { ownerId: 'alice' })).id);
    const alice = api(server, await server.mintUserToken('alice'));

    const events: string[] = [];
    await Promise.all(ids.map((id) => follow(alice, id, events)));

    const playable = events.filter((event) => event.startsWith('playable:'));
    expect(playable.map((event) => event.slice('playable:'.length)).sort()).toEqual([...ids].sort());
    const lastPlayable = Math.max(...playable.map((event) => events.indexOf(event)));
    const firstReady = events.findIndex((event) => event.startsWith('ready:'));
    expect(lastPlayable).toBeLessThan(firstReady);
  }, 300_000);

  it('keeps the media processes within MEDIA_MAX_PROCESSES under a burst of 20 first views', async () => {
    // Symlinks, so that this server's ffmpeg and ffprobe can be told apart from any other in /proc.
    const bin = path.join(dir, `bin-${variant}`);
    await fs.mkdir(bin, { recursive: true });
    await fs.symlink(FFMPEG_PATH, path.join(bin, 'ffmpeg')).catch(() => undefined);
    await fs.symlink(FFPROBE_PATH, path.join(bin, 'ffprobe')).catch(() => undefined);
    server = await startTestServer(variant, {
      MEDIA_MAX_PROCESSES: '4',
      FFMPEG_PATH: path.join(bin, 'ffmpeg'),
      FFPROBE_PATH: path.join(bin, 'ffprobe'),
      RENDITIONS: 'off',
    });
    const file = await makeTestMedia(dir, 'h264-aac-faststart', { seconds: 6 });
    const ids: string[] = [];
    for (let i = 0; i < 20; i += 1) ids.push((await server.importVideo(file, { ownerId: 'bob' })).id);
    const bob = api(server, await server.mintUserToken('bob'));

    let sampling = true;
    let most = 0;
    const sampler = (async () => {
      while (sampling) {
        most = Math.max(most, await countProcesses(bin));
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    try {
      const first = await Promise.all(ids.map((id) => streamOf(bob, id)));
      for (const { status, body } of first) {
        expect([200, 202]).toContain(status);
        if (body.status === 'generating' && !body.playable)
          expect(body.retry_after).toBeGreaterThanOrEqual(2);
      }
      for (const id of ids) expect((await waitForStream(bob, id, 240_000)).body['status']).toBe('ready');
    } finally {
      sampling = false;
      await sampler;
    }
    expect(most).toBeLessThanOrEqual(4);
    expect(most).toBeGreaterThanOrEqual(2); // remuxes ran side by side
  }, 300_000);

  it('tells first views beyond what the workers run when to look again, later the further back they wait', async () => {
    // No worker here: nothing is started, so every first view waits on its row in request order.
    server = await startTestServer(variant, { WORKER: 'false', WORKER_CONCURRENCY: '2' });
    const file = await makeTestMedia(dir, 'h264-aac-faststart', { seconds: 4 });
    const ids: string[] = [];
    for (let i = 0; i < 6; i += 1) ids.push((await server.importVideo(file, { ownerId: 'carol' })).id);
    const carol = api(server, await server.mintUserToken('carol'));
    const answers: Array<Promise<{ status: number; body: StreamBody }>> = [];
    for (const id of ids) {
      answers.push(streamOf(carol, id));
      await new Promise((resolve) => setTimeout(resolve, 100)); // requested one after another
    }
    const retryAfter = (await Promise.all(answers)).map(({ status, body }) => {
      expect(status).toBe(202);
      expect(body).toMatchObject({ status: 'generating' });
      return body.retry_after;
    });
    // Two generations at once: 0–1 queued ahead → 2 s, 2–3 → 4 s, 4–5 → 6 s.
    expect(retryAfter).toEqual([2, 2, 4, 4, 6, 6]);
  }, 120_000);
});
