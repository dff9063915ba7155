import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createPlaybackTokens } from '../src/auth/playback-tokens.js';
import { createDatabase, migrateToLatest, type Database } from '../src/db/create-database.js';
import { HlsStatus, UploadStatus } from '../src/db/schema.js';
import { createStreamService, type StreamService } from '../src/videos/stream-service.js';
import { insertVideo } from '../src/videos/videos-repository.js';

// Held first answers, against the embedded database. The poll interval is far longer than the hold, so an answer
// that comes back playable can only have been woken by `videoChanged`.
describe('held /stream answers', () => {
  let dir: string;
  let database: Database;
  let streams: StreamService;
  let queued: string[];

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'notetaker-hold-'));
    database = await createDatabase({ kind: 'pglite', dataDir: dir });
    await migrateToLatest(database.db);
    queued = [];
    streams = createStreamService({
      db: database.db,
      playbackTokens: createPlaybackTokens('x'.repeat(32)),
      publicUrl: () => 'http://stream.test',
      playbackTtlSeconds: 3600,
      retryAfterSeconds: 2,
      onGenerationQueued: () => queued.push('queued'),
      holdMs: 3000,
      holdPollMs: 60_000,
    });
  });

  afterAll(async () => {
    await database?.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  const uploadedVideo = async () => {
    const id = randomUUID();
    await insertVideo(database.db, {
      id,
      owner_id: 'alice',
      source_key: `videos/alice/${id}.mp4`,
      upload_status: UploadStatus.Complete,
    });
    return id;
  };

  const publish = (id: string, fields: { hls_live_playlist?: string; hls_status?: HlsStatus }) =>
    database.db.updateTable('videos').set(fields).where('id', '=', id).execute();

  it('answers playable as soon as the worker in this process says the playlist is published', async () => {
    const id = await uploadedVideo();
    const answer = streams.getStream('alice', id);
    // Let the first view start the generation and begin its hold.
    await expect.poll(() => queued.length).toBeGreaterThan(0);
    await publish(id, { hls_live_playlist: '#EXTM3U\n' });
    streams.videoChanged(id);
    const body = await answer;
    expect(body).toMatchObject({ status: 'generating', playable: true });
    expect(body).toHaveProperty('hls_url', expect.stringContaining(`/api/videos/${id}/playlist.m3u8?token=`));
  });

  it('without a wake, the hold runs out and answers from what it had', async () => {
    const id = await uploadedVideo();
    queued.length = 0;
    const answer = streams.getStream('alice', id);
    await expect.poll(() => queued.length).toBeGreaterThan(0);
    await publish(id, { hls_live_playlist: '#EXTM3U\n' });
    const body = await answer;
    expect(body).toMatchObject({ status: 'generating' });
    expect(body).not.toHaveProperty('playable');
  });

  it('a wake for another video, or for a video nobody waits on, changes nothing', async () => {
    const id = await uploadedVideo();
    const other = await uploadedVideo();
    queued.length = 0;
    streams.videoChanged(id);
    const answer = streams.getStream('alice', id);
    await expect.poll(() => queued.length).toBeGreaterThan(0);
    await publish(id, { hls_live_playlist: '#EXTM3U\n' });
    streams.videoChanged(other);
    expect(await answer).not.toHaveProperty('playable');
  });

  it('a failure recorded while the answer is held is reported by the next poll, not hidden', async () => {
    const id = await uploadedVideo();
    queued.length = 0;
    const answer = streams.getStream('alice', id);
    await expect.poll(() => queued.length).toBeGreaterThan(0);
    await database.db
      .updateTable('videos')
      .set({ hls_status: HlsStatus.Failed, hls_error_message: 'The file is not a video we can read.' })
      .where('id', '=', id)
      .execute();
    streams.videoChanged(id);
    expect(await answer).toMatchObject({ status: 'generating' });
    expect(await streams.getStream('alice', id)).toMatchObject({
      status: 'failed',
      error_message: 'The file is not a video we can read.',
    });
  });
});
