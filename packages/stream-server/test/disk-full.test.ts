import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { loadOrCreateSecrets } from '../src/config/secrets.js';
import { startServer, type RunningServer } from '../src/server/start-server.js';
import { runTestFfmpeg } from './helpers/media.js';
import { waitFor } from './helpers/processes.js';
import { api, createTestDatabase } from './helpers/test-server.js';

const run = promisify(execFile);
const MiB = 1024 * 1024;

/**
 * A real full disk: DATA_DIR (local objects, generation's temp files) is a 24 MiB tmpfs. Needs root (`mount`); the
 * database is the test PostgreSQL server, so that only the data folder fills up.
 */
describe('a full disk', () => {
  let root: string;
  let dataDir: string;
  let filler: string;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let server: RunningServer;
  const logs: Array<{ msg?: string; level?: number }> = [];

  /** Writes a file that leaves about `leaveBytes` free on the tmpfs. */
  const fillLeaving = async (leaveBytes: number) => {
    await fs.rm(filler, { force: true });
    const { bavail, bsize } = await fs.statfs(dataDir);
    const size = Math.max(0, Number(bavail) * Number(bsize) - leaveBytes);
    await fs.writeFile(filler, Buffer.alloc(size, 1));
  };

  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'notetaker-disk-'));
    dataDir = path.join(root, 'data');
    await fs.mkdir(dataDir);
    await run('mount', ['-t', 'tmpfs', '-o', 'size=24m', 'tmpfs', dataDir]);
    filler = path.join(dataDir, 'filler.bin');
    database = await createTestDatabase();
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) logs.push(JSON.parse(line));
        done();
      },
    });
    server = await startServer({
      env: {
        DATA_DIR: dataDir,
        PORT: '0',
        DATABASE_URL: database.url,
        WORKER_POLL_MS: '200',
        MIN_FREE_DISK_BYTES: String(2 * MiB),
        JOB_MAX_ATTEMPTS: '20',
        RENDITIONS: 'off',
      },
      logger: pino({ level: 'info' }, stream),
    });
  });

  afterAll(async () => {
    await server?.stop();
    await database?.drop();
    await run('umount', [dataDir]).catch(() => undefined);
    await fs.rm(root, { recursive: true, force: true });
  });

  it('/readyz says so while free space is below MIN_FREE_DISK_BYTES', async () => {
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    await fillLeaving(MiB);
    const low = await fetch(`${server.url}/readyz`);
    expect(low.status).toBe(503);
    const body = (await low.json()) as { checks: Record<string, string> };
    expect(body.checks['disk']).toMatch(/^disk full: .* free under .*MIN_FREE_DISK_BYTES/);
    expect(body.checks['database']).toBe('ok');
    await fs.rm(filler);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
  });

  it('a disk that fills up during generation is retried, never blamed on the video, and logged as "disk full"', async () => {
    // About 6 MB of H.264: its copy needs as much again, more than is left once the filler is written.
    const source = path.join(root, 'big.mp4');
    await runTestFfmpeg([
      ...['-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25:duration=12'],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-b:v', '4M', '-g', '25', '-pix_fmt', 'yuv420p'],
      ...['-movflags', '+faststart', source],
    ]);
    const sourceBytes = (await fs.stat(source)).size;
    expect(sourceBytes).toBeGreaterThan(4 * MiB);
    const { id } = await server.importVideo(source, { ownerId: 'alice' });
    // Above MIN_FREE_DISK_BYTES when generation starts, but not enough for the output.
    await fillLeaving(3 * MiB);
    const alice = api(server, await server.mintUserToken('alice'));
    await alice(`/api/videos/${id}/stream`);

    await waitFor('a "disk full" log line', async () =>
      logs.find((line) => typeof line.msg === 'string' && line.msg.startsWith('disk full')),
    );
    // Retried, not failed: the video waits for room.
    const row = async () =>
      server.database.db.selectFrom('videos').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    // The attempt ends as a transient failure (logged just after the "disk full" line) and the video keeps waiting.
    await waitFor('the retry to be scheduled', async () =>
      logs.find((line) => line.msg === 'transient failure; generation will be retried'),
    );
    expect((await row()).hls_status).toBe('generating');

    // Room again: the next attempt makes it.
    await fs.rm(filler);
    const ready = await waitFor(
      'the video to be ready',
      async () => {
        const current = await row();
        if (current.hls_status === 'failed') throw new Error(`failed: ${current.hls_error_message}`);
        return current.hls_status === 'ready' ? current : undefined;
      },
      90_000,
    );
    expect(ready.hls_error_message).toBeNull();
  }, 120_000);

  it('start-up on a full disk prints what went wrong, not [object Object]', async () => {
    // The secrets file exists already, so the embedded database is the first thing start-up writes: it finds no room.
    const another = path.join(dataDir, 'another');
    await loadOrCreateSecrets(another, {});
    await fillLeaving(64 * 1024);
    try {
      const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
      const failure = await run(process.execPath, ['--import', 'tsx', cli, 'serve'], {
        env: { ...process.env, DATA_DIR: another, PORT: '0', LOG_LEVEL: 'silent' },
        timeout: 60_000,
      }).then(
        () => undefined,
        (error: { code?: number; stderr?: string }) => error,
      );
      expect(failure?.code).toBe(1);
      expect(failure?.stderr).not.toContain('[object Object]');
      expect(failure?.stderr).toMatch(
        /^notetaker-stream: The embedded database in .* could not be opened: no space left on device \(ENOSPC\)/m,
      );
    } finally {
      await fs.rm(filler, { force: true });
    }
  });
});
