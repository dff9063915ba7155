import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startServer, type RunningServer } from '../src/server/start-server.js';
import { probeHlsDuration } from './helpers/hls.js';
import { runTestFfmpeg } from './helpers/media.js';
import { api, seedEmbeddedDatabase, waitForStream } from './helpers/test-server.js';

const run = promisify(execFile);
const SOURCE_SECONDS = 12;

/**
 * A temp folder too small for one segment: `<DATA_DIR>/tmp` (where generation writes before storing) is a 1 MiB
 * tmpfs while the rest of the data folder has room. Needs root (`mount`). The generation must end in a readable
 * error that a retry clears, never in a `ready` video shorter than its source.
 */
describe('a temp folder too small for the generation', () => {
  let root: string;
  let tempDir: string;
  let server: RunningServer;

  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'notetaker-tempfull-'));
    const dataDir = path.join(root, 'data');
    tempDir = path.join(dataDir, 'tmp');
    await fs.mkdir(tempDir, { recursive: true });
    await run('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', tempDir]);
    await seedEmbeddedDatabase(dataDir);
    server = await startServer({
      env: {
        DATA_DIR: dataDir,
        PORT: '0',
        LOG_LEVEL: 'silent',
        WORKER_POLL_MS: '200',
        // The data folder's own check passes: only the temp folder is short of room.
        MIN_FREE_DISK_BYTES: '0',
        JOB_MAX_ATTEMPTS: '2',
        SEGMENT_SECONDS: '6',
        RENDITIONS: 'off',
      },
      logger: 'silent',
    });
  });

  afterAll(async () => {
    await server?.stop();
    await run('umount', [tempDir]).catch(() => undefined);
    await fs.rm(root, { recursive: true, force: true });
  });

  it('fails with a readable message about disk space, and a retry with room makes it ready at full length', async () => {
    // About 2 MB per 6-second segment: more than the whole temp folder.
    const source = path.join(root, 'dense.mp4');
    await runTestFfmpeg([
      ...['-f', 'lavfi', '-i', `testsrc2=size=640x360:rate=25:duration=${SOURCE_SECONDS}`],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-b:v', '3M', '-g', '25', '-pix_fmt', 'yuv420p'],
      ...['-movflags', '+faststart', source],
    ]);
    const { id } = await server.importVideo(source, { ownerId: 'alice' });
    const alice = api(server, await server.mintUserToken('alice'));

    await alice(`/api/videos/${id}/stream`);
    const failed = await waitForStream(alice, id, 120_000);
    expect(failed.body).toMatchObject({ status: 'failed' });
    expect(failed.body['error_message']).toMatch(/disk space/);
    expect(failed.body['error_message']).toMatch(/retry/i);
    expect(failed.body['error_message']).not.toMatch(/ffmpeg|ENOSPC|segment\d/);

    // Room again: the owner's retry makes it, complete.
    await run('mount', ['-o', 'remount,size=256m', tempDir]);
    expect((await alice(`/api/videos/${id}/stream/retry`, { method: 'POST' })).status).toBe(202);
    const ready = await waitForStream(alice, id, 120_000);
    expect(ready.body['status']).toBe('ready');
    expect(await probeHlsDuration(ready.body['hls_url'] as string)).toBeGreaterThan(SOURCE_SECONDS - 0.5);
  }, 240_000);
});
