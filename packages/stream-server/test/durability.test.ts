import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { startServer, type RunningServer } from '../src/server/start-server.js';
import { probeHlsDuration, segmentUris } from './helpers/hls.js';
import { makeTestMedia } from './helpers/media.js';
import { spawnCli, waitFor, writeSlowFfmpeg, type CliProcess } from './helpers/processes.js';
import { startTestS3, type TestS3 } from './helpers/s3.js';
import { api, createTestDatabase, waitForReadyWith, waitForStream } from './helpers/test-server.js';

/**
 * Real processes on one real PostgreSQL and one bucket: an API process (in-process here) and `notetaker-stream
 * worker` processes, killed and stopped mid-job.
 */
describe('generation that survives crashes (PostgreSQL, separate worker processes)', () => {
  let dir: string;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let s3: TestS3;
  let sharedEnv: Record<string, string>;
  let apiServer: RunningServer;
  let sql: pg.Client;
  const workers: CliProcess[] = [];

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'notetaker-durability-'));
    database = await createTestDatabase();
    s3 = await startTestS3();
    const slowFfmpeg = await writeSlowFfmpeg(dir, 4, path.join(dir, 'ffmpeg-runs.log'));
    sharedEnv = {
      DATA_DIR: path.join(dir, 'data'),
      DATABASE_URL: database.url,
      S3_BUCKET: s3.bucket,
      S3_ENDPOINT: s3.endpoint,
      S3_REGION: s3.region,
      S3_ACCESS_KEY_ID: s3.accessKeyId,
      S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
      S3_FORCE_PATH_STYLE: 'true',
      FFMPEG_PATH: slowFfmpeg,
      LOG_LEVEL: 'warn',
      WORKER_POLL_MS: '200',
      CLEANUP_INTERVAL_SECONDS: '1',
    };
    apiServer = await startServer({ env: { ...sharedEnv, PORT: '0', WORKER: 'false' }, logger: 'silent' });
    sql = new pg.Client({ connectionString: database.url });
    await sql.connect();
  });

  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.kill('SIGKILL')));
  });

  afterAll(async () => {
    await sql?.end();
    await apiServer?.stop();
    await s3?.stop();
    await database?.drop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  const startWorker = (env: Record<string, string> = {}) => {
    const worker = spawnCli(['worker'], { ...sharedEnv, ...env });
    workers.push(worker);
    return worker;
  };

  const leaseOwner = async (id: string) => {
    const { rows } = await sql.query<{ hls_lease_owner: string | null }>(
      'select hls_lease_owner from videos where id = $1',
      [id],
    );
    return rows[0]?.hls_lease_owner ?? undefined;
  };

  const firstView = async (seconds: number) => {
    const file = await makeTestMedia(dir, 'h264-aac-faststart', { seconds });
    const { id } = await apiServer.importVideo(file, { ownerId: 'alice' });
    const alice = api(apiServer, await apiServer.mintUserToken('alice'));
    expect((await alice(`/api/videos/${id}/stream`)).status).toBe(202);
    return { id, alice };
  };

  const expectCompleteStream = async (id: string, alice: ReturnType<typeof api>, seconds: number) => {
    const { body: first } = await waitForStream(alice, id, 90_000);
    expect(first['status']).toBe('ready');
    // Poster and storyboard come from a task after `ready`; wait for them too.
    const body = await waitForReadyWith(alice, id, (answer) => 'storyboard_url' in answer, 90_000);
    const hlsUrl = body['hls_url'] as string;
    expect(await probeHlsDuration(hlsUrl)).toBeCloseTo(seconds, 0);
    // Nothing half-published: the prefix holds exactly the playlist, the segments it lists, poster and storyboard.
    const playlist = await (await fetch(hlsUrl)).text();
    const listed = segmentUris(playlist).map((uri) => new URL(uri).pathname.split('/').pop());
    const stored = (await apiServer.storage.listObjects(`videos/alice/${id}_hls/`)).map((o) =>
      o.key.split('/').pop(),
    );
    const thumbnails = ['poster.jpg', 'storyboard.jpg', 'storyboard.vtt'];
    expect(stored.sort()).toEqual([...listed, 'playlist.m3u8', ...thumbnails].sort());
  };

  it('a worker killed with SIGKILL mid-job loses the job to another worker, which finishes it', async () => {
    const leaseEnv = { JOB_LEASE_SECONDS: '5' };
    const a = startWorker(leaseEnv);
    const { id, alice } = await firstView(24);
    const owner = await waitFor('worker A to take the job', () => leaseOwner(id));
    expect(owner).toContain(`:${a.pid}:`);
    // Let it store some segments, then kill it without a chance to clean up.
    await waitFor('a few stored segments', async () =>
      (await apiServer.storage.listObjects(`videos/alice/${id}_hls/`)).length >= 2 ? true : undefined,
    );
    await a.kill('SIGKILL');
    const b = startWorker(leaseEnv);
    await waitFor(
      'worker B to take the job over',
      async () => {
        const current = await leaseOwner(id);
        return current?.includes(`:${b.pid}:`) ? current : undefined;
      },
      30_000,
    );
    await expectCompleteStream(id, alice, 24);
    // B's cleanup removed A's temp folder; B's own holds nothing after the job.
    await waitFor(
      'dead worker temp folder removed',
      async () => {
        const names = await fs
          .readdir(path.join(sharedEnv['DATA_DIR']!, 'tmp', 'generation'))
          .catch(() => []);
        return names.some((n) => n.endsWith(`-${a.pid}`)) ? undefined : names;
      },
      15_000,
    );
  });

  it('a rendition task whose worker is killed is taken over by another worker, and the master lists the rung', async () => {
    const env = { JOB_LEASE_SECONDS: '5', RENDITIONS: '360' };
    const a = startWorker(env);
    const file = await makeTestMedia(dir, 'h264-aac-1080p', { seconds: 12 });
    const { id } = await apiServer.importVideo(file, { ownerId: 'alice' });
    const alice = api(apiServer, await apiServer.mintUserToken('alice'));
    await alice(`/api/videos/${id}/stream`);
    expect((await waitForStream(alice, id, 90_000)).body['status']).toBe('ready');
    const taskOwner = async () => {
      const { rows } = await sql.query<{ lease_owner: string | null; status: string }>(
        "select lease_owner, status from video_tasks where video_id = $1 and kind = 'rendition'",
        [id],
      );
      return rows[0];
    };
    await waitFor('worker A to take the rendition task', async () =>
      (await taskOwner())?.lease_owner?.includes(`:${a.pid}:`) ? true : undefined,
    );
    await a.kill('SIGKILL');
    const b = startWorker(env);
    await waitFor(
      'worker B to finish the rendition',
      async () => ((await taskOwner())?.status === 'done' ? true : undefined),
      90_000,
    );
    expect(b.pid).toBeGreaterThan(0);
    const ready = await waitForReadyWith(alice, id, (body) =>
      String(body['hls_url']).includes('/master.m3u8'),
    );
    const master = await (await fetch(ready['hls_url'] as string)).text();
    expect(master.match(/#EXT-X-STREAM-INF:/g)?.length).toBe(2);
    expect(master).toContain('RESOLUTION=640x360');
  });

  it('a rendition in progress stops when the HLS is deleted, and leaves nothing behind', async () => {
    // Slow ffmpeg (4× real time): the 24 s rung takes ≥ 6 s to encode; the lease is renewed every ~1.7 s.
    const worker = startWorker({ RENDITIONS: '360', JOB_LEASE_SECONDS: '5' });
    const file = await makeTestMedia(dir, 'h264-aac-1080p', { seconds: 24 });
    const { id } = await apiServer.importVideo(file, { ownerId: 'alice' });
    const alice = api(apiServer, await apiServer.mintUserToken('alice'));
    await alice(`/api/videos/${id}/stream`);
    expect((await waitForStream(alice, id, 90_000)).body['status']).toBe('ready');
    const rendition = async () =>
      (
        await sql.query<{ status: string; lease_owner: string | null }>(
          "select status, lease_owner from video_tasks where video_id = $1 and kind = 'rendition'",
          [id],
        )
      ).rows[0];
    await waitFor('the rendition task to start', async () =>
      (await rendition())?.lease_owner ? true : undefined,
    );
    const manage = api(apiServer, apiServer.serviceApiKey);
    expect((await manage(`/api/manage/videos/${id}/hls`, { method: 'DELETE' })).status).toBeLessThan(300);
    // The worker's next lease renewal sees that the run is over and stops the encode (well before it could end).
    const stoppedAt = Date.now();
    await waitFor('the worker to stop the rendition', async () =>
      worker.output().includes('video task stopped') ? true : undefined,
    );
    expect(Date.now() - stoppedAt).toBeLessThan(6_000);
    expect((await rendition())?.status).not.toBe('done');
    const stored = await apiServer.storage.listObjects(`videos/alice/${id}_hls/`);
    expect(stored.filter((o) => /\/360p-[^/]+\//.test(o.key))).toEqual([]);
  });

  it('SIGTERM during a job hands it back at once, and another worker finishes it', async () => {
    const longLease = { JOB_LEASE_SECONDS: '120' };
    const a = startWorker(longLease);
    const { id, alice } = await firstView(16);
    await waitFor('worker A to take the job', async () =>
      (await leaseOwner(id))?.includes(`:${a.pid}:`) ? true : undefined,
    );
    expect(await a.kill('SIGTERM')).toBe(0);
    // Released immediately, not after the 120 s lease.
    expect(await leaseOwner(id)).toBeUndefined();
    startWorker(longLease);
    await expectCompleteStream(id, alice, 16);
  });

  it('many simultaneous first views across two API processes start exactly one ffmpeg', async () => {
    const second = await startServer({ env: { ...sharedEnv, PORT: '0', WORKER: 'false' }, logger: 'silent' });
    try {
      startWorker();
      startWorker();
      const file = await makeTestMedia(dir, 'h264-aac-faststart', { seconds: 6 });
      const { id } = await apiServer.importVideo(file, { ownerId: 'alice' });
      const runsFile = path.join(dir, 'ffmpeg-runs.log');
      const before = (await fs.readFile(runsFile, 'utf8').catch(() => '')).split('\n').filter(Boolean).length;
      const token = await apiServer.mintUserToken('alice');
      const answers = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          api(i % 2 ? second : apiServer, token)(`/api/videos/${id}/stream`),
        ),
      );
      for (const answer of answers) expect([200, 202]).toContain(answer.status);
      expect((await waitForStream(api(apiServer, token), id)).body['status']).toBe('ready');
      const after = (await fs.readFile(runsFile, 'utf8')).split('\n').filter(Boolean).length;
      expect(after - before).toBe(1);
    } finally {
      await second.stop();
    }
  });
});
