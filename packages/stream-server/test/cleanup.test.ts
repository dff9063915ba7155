import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { removeOrphanedHls } from '../src/generation/cleanup.js';
import { makeTestMedia } from './helpers/media.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

describe('cleanup of objects whose video is gone', () => {
  let server: TestServer;
  let mediaDir: string;

  beforeAll(async () => {
    mediaDir = await fs.mkdtemp(path.join(os.tmpdir(), 'notetaker-media-'));
    server = await startTestServer('embedded', { CLEANUP_INTERVAL_SECONDS: '0' });
  });

  afterAll(async () => {
    await server?.close();
    if (mediaDir) await fs.rm(mediaDir, { recursive: true, force: true });
  });

  it("removes a deleted video's HLS (rungs included) and caption files, and nothing of a live video", async () => {
    const file = await makeTestMedia(mediaDir, 'h264-aac-faststart', { seconds: 2 });
    const live = (await server.importVideo(file, { ownerId: 'alice' })).id;
    const gone = randomUUID();
    const keys = {
      live: [`videos/alice/${live}_hls/playlist.m3u8`, `videos/alice/${live}_captions/en.vtt`],
      gone: [
        `videos/alice/${gone}_hls/playlist.m3u8`,
        `videos/alice/${gone}_hls/360p-0a1b2c3d/segment0.ts`,
        `videos/alice/${gone}_captions/en.vtt`,
      ],
    };
    for (const key of [...keys.live, ...keys.gone]) {
      await server.storage.putObject(key, Buffer.from('x'), { contentType: 'application/octet-stream' });
    }
    const removed = await removeOrphanedHls({
      db: server.database.db,
      storage: server.storage,
      logger: pino({ level: 'silent' }),
    });
    expect(removed).toBe(1);
    const left = (await server.storage.listObjects('videos/alice/')).map((o) => o.key);
    for (const key of keys.gone) expect(left).not.toContain(key);
    for (const key of keys.live) expect(left).toContain(key);
    expect(left).toContain(`videos/alice/${live}.mp4`);
  });
});
