import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { probeHlsDuration, segmentUris } from './helpers/hls.js';
import { makeTestMedia } from './helpers/media.js';
import {
  api,
  createTestDatabase,
  startTestServer,
  waitForReadyWith,
  waitForStream,
  type TestServer,
} from './helpers/test-server.js';

// How a generation reads its source. With local storage, ffmpeg, ffprobe and the MP4 index reader open the
// source's own file: none of its bytes pass through the service's HTTP routes (and so its one event loop, which the
// held /stream answers and the embedded database share). With S3 they read it through a presigned URL.

interface RequestLog {
  msg?: string;
  method?: string;
  path?: string;
}

type Setup = 'embedded' | 'postgres + local storage' | 'postgres + s3';

async function sourceKeyOf(server: TestServer, id: string): Promise<string> {
  const row = await server.database.db
    .selectFrom('videos')
    .select('source_key')
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
  return row.source_key;
}

describe.each<Setup>(['embedded', 'postgres + local storage', 'postgres + s3'])(
  'source reads (%s)',
  (setup) => {
    let server: TestServer;
    let mediaDir: string;
    let user: ReturnType<typeof api>;
    let dropDatabase: (() => Promise<void>) | undefined;
    const logs: RequestLog[] = [];

    /** Requests the service's own storage routes answered for `key`. */
    const storageRequestsFor = (key: string) =>
      logs.filter((line) => line.msg === 'request' && line.path?.endsWith(`/o/${key}`));

    beforeAll(async () => {
      mediaDir = await fs.mkdtemp(path.join(os.tmpdir(), 'notetaker-source-reads-'));
      const env: Record<string, string> = { RENDITIONS: 'off' };
      if (setup === 'postgres + local storage') {
        const database = await createTestDatabase();
        dropDatabase = () => database.drop();
        env['DATABASE_URL'] = database.url;
      }
      server = await startTestServer(setup === 'postgres + s3' ? 'postgres-s3' : 'embedded', env, {
        logger: pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line)) }),
      });
      user = api(server, await server.mintUserToken('alice'));
    });

    afterAll(async () => {
      await server?.close();
      await dropDatabase?.();
      await fs.rm(mediaDir, { recursive: true, force: true });
    });

    it('generates from the source and plays the whole of it; local storage reads the file, S3 a presigned URL', async () => {
      const file = await makeTestMedia(mediaDir, 'h264-aac-moov-end', { seconds: 14 });
      const { id } = await server.importVideo(file, { ownerId: 'alice' });
      const sourceKey = await sourceKeyOf(server, id);
      const s3ReadsBefore = server.s3?.requests.length ?? 0;

      expect((await user(`/api/videos/${id}/stream`)).status).toBe(202);
      const { status, body } = await waitForStream(user, id, 120_000);
      expect(status).toBe(200);
      expect(body).toMatchObject({ status: 'ready' });
      // The poster comes from the source too, in a task after `ready`.
      await waitForReadyWith(user, id, (ready) => typeof ready['poster_url'] === 'string', 120_000);

      if (server.storage.kind === 'local') {
        const sourceFile = server.storage.localPath(sourceKey);
        expect(sourceFile).toBeDefined();
        expect(sourceFile!.startsWith(server.dataDir + path.sep)).toBe(true);
        expect((await fs.stat(sourceFile!)).size).toBe((await fs.stat(file)).size);
        // Generation (the source check, the MP4 index, ffprobe and ffmpeg) and the poster read it without HTTP.
        expect(storageRequestsFor(sourceKey)).toEqual([]);
      } else {
        const sourceGets = server
          .s3!.requests.slice(s3ReadsBefore)
          .filter((request) => request.method === 'GET' && request.path.endsWith(`/${sourceKey}`));
        expect(sourceGets.length).toBeGreaterThan(0);
        expect(sourceGets.every((request) => request.search.includes('X-Amz-Signature='))).toBe(true);
      }

      const playlist = await (await fetch(body['hls_url'] as string)).text();
      expect(playlist).toContain('#EXT-X-ENDLIST');
      expect(segmentUris(playlist).length).toBeGreaterThanOrEqual(3);
      expect(await probeHlsDuration(body['hls_url'] as string)).toBeCloseTo(14, 0);
      const video = (await (await user(`/api/videos/${id}`)).json()) as Record<string, unknown>;
      expect(video['duration_seconds'] as number).toBeCloseTo(14, 0);
      if (server.storage.kind === 'local') {
        // The log does see the storage routes: the segments just played were fetched through them.
        expect(
          logs.some((line) => line.msg === 'request' && line.path?.includes(`/o/videos/alice/${id}_hls/`)),
        ).toBe(true);
      }
    });

    it.each([
      ['truncated-mp4', /incomplete|damaged/i],
      ['random-bytes', /not a video|read|invalid|recogni/i],
    ] as const)(
      'ends a %s source as failed with a readable message that names no file',
      async (kind, pattern) => {
        const file = await makeTestMedia(mediaDir, kind, { seconds: 12 });
        const { id } = await server.importVideo(file, { ownerId: 'alice' });
        const sourceKey = await sourceKeyOf(server, id);
        await user(`/api/videos/${id}/stream`);
        const { status, body } = await waitForStream(user, id, 120_000);
        expect(status).toBe(200);
        expect(body['status']).toBe('failed');
        expect(body['error_message']).toMatch(pattern);
        expect(body['error_message']).not.toMatch(/ffmpeg|stderr|\/tmp\/|objects\//i);
        expect(body['error_message']).not.toContain(server.dataDir);
        expect(await server.storage.listObjects(`videos/alice/${id}_hls/`)).toEqual([]);
        if (server.storage.kind === 'local') expect(storageRequestsFor(sourceKey)).toEqual([]);
      },
    );
  },
);
