import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { isDatabaseUnavailable } from '../src/db/database-errors.js';
import { TaskStatus } from '../src/db/schema.js';
import type { ProcessLauncher } from '../src/media/process-launcher.js';
import { createVideoTaskJobs } from '../src/tasks/video-task-handler.js';
import { claimNextTask } from '../src/tasks/video-tasks-repository.js';

import { probeHlsDuration } from './helpers/hls.js';
import { makeTestMedia } from './helpers/media.js';
import { waitFor, writeSlowFfmpeg } from './helpers/processes.js';
import { startCuttableProxy, type CuttableProxy } from './helpers/tcp-proxy.js';
import { api, createTestDatabase, startTestServer, type TestServer } from './helpers/test-server.js';

const SOURCE_SECONDS = 16;

/** A 503 as an outage must look: `unavailable`, a readable message, and when to come back. */
async function expectUnavailable(response: Response) {
  expect(response.status).toBe(503);
  expect(response.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
  expect(await response.json()).toEqual({ error: { code: 'unavailable', message: expect.any(String) } });
}

/**
 * PostgreSQL taken away (every connection dropped, new ones refused) and given back while a video generates and
 * requests are in flight: the service answers 503 with Retry-After meanwhile, never 500, and the generation ends
 * `ready` at full length, not failed, not half-published.
 */
describe('a database outage during a generation', () => {
  let tmp: string;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let proxy: CuttableProxy;
  let server: TestServer;
  let alice: ReturnType<typeof api>;
  /** The server's log, one parsed JSON line each. */
  const logs: Array<{ level: number; msg: string; outageMs?: number; component?: string }> = [];
  const logged = (text: string) => logs.filter((line) => line.msg.startsWith(text));
  let readyId: string;

  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'notetaker-outage-'));
    database = await createTestDatabase();
    const url = new URL(database.url);
    proxy = await startCuttableProxy({ host: url.hostname, port: Number(url.port || 5432) });
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    server = await startTestServer(
      'embedded',
      {
        DATABASE_URL: url.toString(),
        // ffmpeg reads at twice real time, so the outage falls in the middle of the generation.
        FFMPEG_PATH: await writeSlowFfmpeg(tmp, 2),
        SEGMENT_SECONDS: '2',
        // Shorter than the outage: the lease runs out while the database is away.
        JOB_LEASE_SECONDS: '5',
        DATABASE_TIMEOUT_SECONDS: '2',
        RENDITIONS: 'off',
        // Tasks after ready (the poster) are run by hand below, against an outage of their own.
        WORKER_TASK_CONCURRENCY: '0',
      },
      {
        logger: pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line)) }),
      },
    );
    alice = api(server, await server.mintUserToken('alice'));
  });

  afterAll(async () => {
    await proxy?.restore();
    await server?.close();
    await proxy?.close();
    await database?.drop();
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('answers 503 with Retry-After while PostgreSQL is away, then ends ready at full length', async () => {
    const source = await makeTestMedia(tmp, 'h264-aac-faststart', { seconds: SOURCE_SECONDS });
    const { id } = await server.importVideo(source, { ownerId: 'alice' });
    const pending = await server.registry.register({
      ownerId: 'alice',
      contentType: 'video/mp4',
      sizeBytes: 4,
    });
    if (pending.upload.method !== 'PUT') throw new Error('expected a single PUT upload');

    // First view: generation starts; wait until it is playable (a published, growing playlist).
    const first = await alice(`/api/videos/${id}/stream`);
    expect(first.status).toBe(202);
    const playable = await waitFor('a playable answer', async () => {
      const body = (await (await alice(`/api/videos/${id}/stream`)).json()) as {
        playable?: boolean;
        hls_url?: string;
      };
      return body.playable && body.hls_url ? body.hls_url : undefined;
    });

    // Requests in flight when the database goes away end as answers or as 503 with Retry-After, never 500.
    const inFlight = Array.from({ length: 12 }, (_, i) =>
      alice(i % 2 === 0 ? `/api/videos/${id}/stream` : '/api/videos'),
    );
    await proxy.cut();
    const cutAt = Date.now();
    for (const response of await Promise.all(inFlight)) {
      expect([200, 202, 503]).toContain(response.status);
      if (response.status === 503) await expectUnavailable(response);
    }

    // While it is away: user routes, playlist routes, the management API and the upload PUT all answer 503.
    await expectUnavailable(await alice(`/api/videos/${id}/stream`));
    await expectUnavailable(await alice(`/api/videos/${id}`));
    await expectUnavailable(await alice('/api/videos'));
    await expectUnavailable(await fetch(playable));
    await expectUnavailable(await api(server, server.serviceApiKey)(`/api/manage/videos/${id}`));
    await expectUnavailable(
      await fetch(pending.upload.url, {
        method: 'PUT',
        headers: pending.upload.headers,
        body: new Uint8Array([1, 2, 3, 4]),
      }),
    );
    expect((await fetch(`${server.url}/readyz`)).status).toBe(503);

    // Longer than the job lease, and long enough for ffmpeg to finish while the database is still away.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, cutAt + 9000 - Date.now())));
    // The worker polled for new jobs all along (every 200 ms, in 8 slots) and said so once.
    await waitFor('the worker to log the outage', async () => logged('database unavailable: no new jobs')[0]);
    await proxy.restore();

    const ready = await waitFor(
      'the video to be ready',
      async () => {
        const response = await alice(`/api/videos/${id}/stream`);
        if (response.status === 503) return undefined;
        const body = (await response.json()) as { status: string; hls_url?: string; error_message?: string };
        if (body.status === 'failed') throw new Error(`generation failed: ${body.error_message}`);
        return body.status === 'ready' ? body : undefined;
      },
      90_000,
    );
    const row = await server.database.db
      .selectFrom('videos')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(row.hls_status).toBe('ready');
    expect(row.hls_error_message).toBeNull();
    // Either the finished work waited for the database, or — the lease having run out during the outage — a free
    // slot took the job over cleanly once it was back: never more than that one extra attempt.
    expect(row.hls_attempts).toBeLessThanOrEqual(2);
    expect(Number(row.duration_seconds)).toBeGreaterThan(SOURCE_SECONDS - 0.5);
    expect(await probeHlsDuration(ready.hls_url!)).toBeGreaterThan(SOURCE_SECONDS - 0.5);

    // Claims work again: said once, with how long they did not.
    const resumed = await waitFor('the worker to log the end of the outage', async () => {
      const lines = logged('database available again: claiming jobs resumed');
      return lines.length > 0 ? lines : undefined;
    });
    expect(resumed).toHaveLength(1);
    expect(resumed[0]!.outageMs).toBeGreaterThan(1000);
    expect(logged('database unavailable: no new jobs')).toHaveLength(1);
    expect(logged('claiming a')).toEqual([]);
    readyId = id;

    // The upload URL refused during the outage works now.
    const put = await fetch(pending.upload.url, {
      method: 'PUT',
      headers: pending.upload.headers,
      body: new Uint8Array([1, 2, 3, 4]),
    });
    expect(put.status).toBe(200);
  }, 180_000);

  it('hands a video task that meets an outage back without counting its attempt', async () => {
    // The ready video's poster task, queued when it became ready; no slot runs tasks here.
    const claim = await claimNextTask(server.database.db, 'outage-test', 60);
    expect(claim?.task.video_id).toBe(readyId);
    expect(claim!.task.attempts).toBe(1);
    const jobs = createVideoTaskJobs({
      db: server.database.db,
      storage: server.storage,
      config: server.config,
      tempRoot: path.join(tmp, 'task-temp'),
      // Never reached: the task stops at its first database read.
      launcher: {} as ProcessLauncher,
    });
    const handler = jobs.handlers[claim!.task.kind];
    const controller = new AbortController();
    const ctx = { signal: controller.signal, log: pino({ level: 'silent' }) };

    await proxy.cut();
    const failure = await handler.run(claim!, ctx).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(isDatabaseUnavailable(failure)).toBe(true);
    // The hand-back waits for the database; it comes back while it waits.
    const handedBack = handler.onFailure(claim!, failure, ctx);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    await proxy.restore();
    await handedBack;

    const task = await server.database.db
      .selectFrom('video_tasks')
      .selectAll()
      .where('id', '=', claim!.id)
      .executeTakeFirstOrThrow();
    expect(task.status).toBe(TaskStatus.Pending);
    expect(task.attempts).toBe(0);
    expect(task.lease_owner).toBeNull();
    expect(task.error_message).toBeNull();
    expect(new Date(task.next_attempt_at!).getTime()).toBeGreaterThan(Date.now());
  }, 120_000);
});
