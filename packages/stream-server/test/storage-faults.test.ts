import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { probeHlsDuration } from './helpers/hls.js';
import { makeTestMedia } from './helpers/media.js';
import { api, startTestServer, waitForStream, type TestServer } from './helpers/test-server.js';

/** Storage faults injected by a proxy in front of the S3-protocol server: 500s and dropped connections. */
describe('generation under storage faults (PostgreSQL + S3)', () => {
  let server: TestServer;
  let mediaDir: string;
  let alice: ReturnType<typeof api>;

  beforeAll(async () => {
    mediaDir = await fs.mkdtemp(path.join(os.tmpdir(), 'notetaker-faults-'));
    server = await startTestServer('postgres-s3', { JOB_MAX_ATTEMPTS: '3' });
    alice = api(server, await server.mintUserToken('alice'));
  });

  afterEach(() => server.s3!.setFaults(undefined));

  afterAll(async () => {
    await server?.close();
    await fs.rm(mediaDir, { recursive: true, force: true });
  });

  const isSegmentPut = (r: { method: string; path: string }) =>
    r.method === 'PUT' && /_hls\/segment\d+\.ts$/.test(r.path);

  it('retries through 500s and dropped connections, then ends ready with a complete stream', async () => {
    const file = await makeTestMedia(mediaDir, 'h264-aac-faststart', { seconds: 12 });
    const { id } = await server.importVideo(file, { ownerId: 'alice' });
    let faults = 0;
    server.s3!.setFaults((request) => {
      if (!isSegmentPut(request) || faults >= 12) return undefined;
      faults += 1;
      return faults % 2 ? { status: 500, code: 'InternalError' } : 'reset';
    });
    await alice(`/api/videos/${id}/stream`);
    const { body } = await waitForStream(alice, id, 120_000);
    expect(body['status']).toBe('ready');
    expect(faults).toBe(12);
    expect(await probeHlsDuration(body['hls_url'] as string)).toBeCloseTo(12, 0);
  });

  it('fails after the attempt limit with a readable message and nothing half-published', async () => {
    const file = await makeTestMedia(mediaDir, 'h264-aac-faststart', { seconds: 12 });
    const { id } = await server.importVideo(file, { ownerId: 'alice' });
    server.s3!.setFaults((request) =>
      isSegmentPut(request) ? { status: 503, code: 'SlowDown' } : undefined,
    );
    await alice(`/api/videos/${id}/stream`);
    const { body } = await waitForStream(alice, id, 120_000);
    expect(body['status']).toBe('failed');
    expect(body['error_message']).toMatch(/storage|try again/i);
    expect(body['error_message']).not.toMatch(/SlowDown|503|ffmpeg/);
    server.s3!.setFaults(undefined);
    expect(await server.storage.listObjects(`videos/alice/${id}_hls/`)).toEqual([]);

    // Once storage is healthy, the owner's retry makes it ready.
    expect((await alice(`/api/videos/${id}/stream/retry`, { method: 'POST' })).status).toBe(202);
    expect((await waitForStream(alice, id, 60_000)).body['status']).toBe('ready');
  });

  it('rides out a bucket that takes no connection for longer than the attempts would last, then ends ready', async () => {
    const file = await makeTestMedia(mediaDir, 'h264-aac-faststart', { seconds: 4 });
    const { id } = await server.importVideo(file, { ownerId: 'alice' });
    let dropped = 0;
    server.s3!.setFaults(() => {
      dropped += 1;
      return 'reset';
    });
    await alice(`/api/videos/${id}/stream`);
    const row = () =>
      server.database.db
        .selectFrom('videos')
        .select(['hls_status', 'hls_attempts', 'hls_error_message'])
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
    // JOB_MAX_ATTEMPTS is 3 here, and counted attempts back off 1–2 s, then 2–4 s: counted, the video would have
    // failed well within these 16 s. Out of reach, each try is handed back uncounted and taken up again after 5 s.
    const until = Date.now() + 16_000;
    while (Date.now() < until) {
      const current = await row();
      expect(current.hls_status, current.hls_error_message ?? '').toBe('generating');
      expect(current.hls_attempts).toBeLessThanOrEqual(1);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(dropped).toBeGreaterThan(0);

    server.s3!.setFaults(undefined);
    const { body } = await waitForStream(alice, id, 60_000);
    expect(body['status']).toBe('ready');
    expect(await probeHlsDuration(body['hls_url'] as string)).toBeCloseTo(4, 0);
  }, 120_000);

  it('answers 503 with Retry-After, not 500, while the bucket is unreachable, and plays again after', async () => {
    const file = await makeTestMedia(mediaDir, 'h264-aac-faststart', { seconds: 4 });
    const { id } = await server.importVideo(file, { ownerId: 'alice' });
    await alice(`/api/videos/${id}/stream`);
    const { body } = await waitForStream(alice, id, 120_000);
    expect(body['status']).toBe('ready');
    const hlsUrl = body['hls_url'] as string;
    const manage = api(server, server.serviceApiKey);

    server.s3!.setFaults(() => 'reset');
    for (const response of [
      await fetch(hlsUrl),
      await manage('/api/manage/videos/import', {
        method: 'POST',
        body: JSON.stringify({ owner_id: 'alice', source_key: `uploads/alice/${id}-again.mp4` }),
      }),
    ]) {
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
      expect(await response.json()).toEqual({ error: { code: 'unavailable', message: expect.any(String) } });
    }

    server.s3!.setFaults(undefined);
    expect((await fetch(hlsUrl)).status).toBe(200);
  });

  it('reports not ready on /readyz while storage is unreachable', async () => {
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    server.s3!.setFaults(() => 'reset');
    const response = await fetch(`${server.url}/readyz`);
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ status: 'unavailable', checks: { database: 'ok' } });
  });
});
