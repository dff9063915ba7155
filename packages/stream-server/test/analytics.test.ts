import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createPlaybackTokens } from '../src/auth/playback-tokens.js';
import { checkWatchReport } from '../src/analytics/watch-report.js';
import { makeTestMedia } from './helpers/media.js';
import { api, startTestServer, VARIANTS, waitForStream, type TestServer } from './helpers/test-server.js';

const PLAYBACK_SECRET = 'analytics-test-playback-secret-0123456789';

/** The message of the InvalidInputError `run` throws. */
function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect((error as { code?: string }).code).toBe('bad_request');
    return (error as Error).message;
  }
  throw new Error('expected a refusal');
}

describe('viewing report checks', () => {
  it('accepts a report and fills what is absent', () => {
    const id = randomUUID();
    expect(
      checkWatchReport({ session_id: id, watched: [[0, 5]], rewatched: [[0, 3]], startup_ms: 412.6 }, 8),
    ).toEqual({
      session_id: id,
      startup_ms: 413,
      rebuffer_count: 0,
      rebuffer_ms: 0,
      error_code: null,
      watched: [[0, 5]],
      rewatched: [[0, 3]],
      rendition_switches: 0,
      reached_90: false,
      final: false,
    });
  });

  it('refuses what our player never sends', () => {
    const id = randomUUID();
    expect(refusal(() => checkWatchReport([], 8))).toMatch(/JSON object/);
    expect(refusal(() => checkWatchReport({ session_id: 'x' }, 8))).toMatch(/session_id/);
    expect(
      refusal(() =>
        checkWatchReport(
          {
            session_id: id,
            watched: [
              [0, 5],
              [4, 6],
            ],
          },
          8,
        ),
      ),
    ).toMatch(/overlap/);
    expect(
      refusal(() =>
        checkWatchReport(
          {
            session_id: id,
            watched: [
              [3, 5],
              [0, 1],
            ],
          },
          8,
        ),
      ),
    ).toMatch(/sorted/);
    expect(refusal(() => checkWatchReport({ session_id: id, watched: [[0, 9]] }, 8))).toMatch(/end ≤ 8/);
    expect(refusal(() => checkWatchReport({ session_id: id, watched: [[2, 2]] }, 8))).toMatch(/start < end/);
    expect(refusal(() => checkWatchReport({ session_id: id, watched: [[0.5, 2]] }, 8))).toMatch(
      /whole seconds/,
    );
    expect(refusal(() => checkWatchReport({ session_id: id, rebuffer_count: -1 }, 8))).toMatch(
      /rebuffer_count/,
    );
    expect(refusal(() => checkWatchReport({ session_id: id, error_code: 'Not A Code' }, 8))).toMatch(
      /error_code/,
    );
    expect(refusal(() => checkWatchReport({ session_id: id, final: 'yes' }, 8))).toMatch(/final/);
    const many = Array.from({ length: 1001 }, (_, i) => [i * 2, i * 2 + 1]);
    expect(refusal(() => checkWatchReport({ session_id: id, watched: many }, null))).toMatch(/at most 1000/);
  });
});

describe.each(VARIANTS)('watch analytics API (%s)', (variant) => {
  let server: TestServer;
  let mediaDir: string;
  let alice: ReturnType<typeof api>;
  let bob: ReturnType<typeof api>;
  let videoId: string;
  let otherId: string;
  let token: string;

  const report = (body: unknown, options: { id?: string; token?: string; type?: string } = {}) =>
    fetch(
      `${server.url}/api/videos/${options.id ?? videoId}/analytics?token=${encodeURIComponent(options.token ?? token)}`,
      {
        method: 'POST',
        body: typeof body === 'string' ? body : JSON.stringify(body),
        headers: {
          'content-type': options.type ?? 'text/plain;charset=UTF-8',
          origin: 'https://host.example',
        },
      },
    );
  const errorOf = async (response: Response) =>
    ((await response.json()) as { error: { code: string; message: string } }).error;

  beforeAll(async () => {
    mediaDir = await fs.mkdtemp(path.join(os.tmpdir(), 'notetaker-media-'));
    server = await startTestServer(variant, { PLAYBACK_SECRET, CORS_ORIGINS: '*' });
    alice = api(server, await server.mintUserToken('alice'));
    bob = api(server, await server.mintUserToken('bob'));
    const file = await makeTestMedia(mediaDir, 'h264-aac-faststart', { seconds: 8 });
    videoId = (await server.importVideo(file, { ownerId: 'alice' })).id;
    otherId = (await server.importVideo(file, { ownerId: 'alice' })).id;
    await alice(`/api/videos/${videoId}/stream`);
    const { body } = await waitForStream(alice, videoId);
    expect(body['status']).toBe('ready');
    token = new URL(body['hls_url'] as string).searchParams.get('token')!;
  });

  afterAll(async () => {
    await server?.close();
    await fs.rm(mediaDir, { recursive: true, force: true });
  });

  it('keeps one row per session, replaced by each report, and answers the aggregates to the owner and the management API', async () => {
    const first = randomUUID();
    // A periodic flush, then the last report: the row is replaced, not added to.
    expect((await report({ session_id: first, startup_ms: 400, watched: [[0, 3]] })).status).toBe(204);
    const last = {
      session_id: first,
      startup_ms: 400,
      rebuffer_count: 1,
      rebuffer_ms: 500,
      watched: [[0, 5]],
      rewatched: [[0, 3]],
      rendition_switches: 1,
      final: true,
    };
    expect((await report(last)).status).toBe(204);
    const second = randomUUID();
    const completed = {
      session_id: second,
      startup_ms: 1000,
      watched: [[0, 8]],
      reached_90: true,
      final: true,
    };
    expect((await report(completed, { type: 'application/json' })).status).toBe(204);
    const rows = await server.database.db
      .selectFrom('watch_sessions')
      .selectAll()
      .where('video_id', '=', videoId)
      .execute();
    expect(rows).toHaveLength(2);
    expect(rows.find((row) => row.id === first)).toMatchObject({
      viewer_id: 'alice',
      watched: [[0, 5]],
      rewatched: [[0, 3]],
      watched_seconds: 5,
      rewatched_seconds: 3,
      ended: true,
    });
    expect(Object.keys(rows[0]!)).not.toContain('ip');

    const answer = await alice(`/api/videos/${videoId}/analytics`);
    expect(answer.status).toBe(200);
    const analytics = (await answer.json()) as Record<string, unknown>;
    expect(analytics).toMatchObject({
      views: 2,
      unique_viewers: 1,
      watch_time_seconds: 13,
      completion_rate: 0.5,
      rewind_hotspots: [
        { second: 0, sessions: 1 },
        { second: 1, sessions: 1 },
        { second: 2, sessions: 1 },
      ],
      startup_ms: { median: 700, p95: 970 },
      rebuffer_ratio: 0.037,
      failure_rate: 0,
    });
    expect(analytics['retention']).toEqual([1, 1, 1, 1, 1, 0.5, 0.5, 0.5]);
    const manage = api(server, server.serviceApiKey);
    expect(await (await manage(`/api/manage/videos/${videoId}/analytics`)).json()).toEqual(analytics);
    expect((await manage('/api/manage/videos/00000000-0000-4000-8000-000000000000/analytics')).status).toBe(
      404,
    );

    // The QoE histograms count each ended session once.
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/notetaker_playback_startup_seconds_count 2/);
    expect(metrics).toMatch(/notetaker_playback_rebuffer_ratio_count 2/);
    expect((await report(last)).status).toBe(204);
    expect(await (await fetch(`${server.url}/metrics`)).text()).toMatch(
      /notetaker_playback_startup_seconds_count 2/,
    );
  });

  it('refuses malformed, oversized and mistyped reports, and keeps nothing of them', async () => {
    const id = randomUUID();
    const bad: Array<[string | object, RegExp]> = [
      ['{"session_id": ', /not valid JSON/],
      [
        {
          session_id: id,
          watched: [
            [0, 5],
            [3, 6],
          ],
        },
        /overlap/,
      ],
      [{ session_id: id, watched: [[0, 60]] }, /end ≤ 8/],
      [{ session_id: 'me' }, /session_id/],
    ];
    for (const [body, message] of bad) {
      const response = await report(body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect((await errorOf(response)).message).toMatch(message);
    }
    const huge = await report({ session_id: id, error_code: 'x', pad: 'x'.repeat(40 * 1024) });
    expect(huge.status).toBe(413);
    expect((await errorOf(huge)).code).toBe('payload_too_large');
    const form = await report({ session_id: id }, { type: 'application/x-www-form-urlencoded' });
    expect(form.status).toBe(415);
    const rows = await server.database.db
      .selectFrom('watch_sessions')
      .select('id')
      .where('id', '=', id)
      .execute();
    expect(rows).toEqual([]);
  });

  it('accepts a report only with a valid playback token of that video', async () => {
    const body = { session_id: randomUUID(), watched: [[0, 1]] };
    const real = createPlaybackTokens(PLAYBACK_SECRET);
    const forged = createPlaybackTokens('some-other-secret-0123456789-abcdef');
    const mint = async (tokens: typeof real, userId: string, id: string) =>
      (await tokens.mint({ userId, videoId: id }, 60)).token;
    expect((await report(body, { token: '' })).status).toBe(401);
    expect((await report(body, { token: 'garbage' })).status).toBe(401);
    expect((await report(body, { token: await mint(forged, 'alice', videoId) })).status).toBe(401);
    expect((await report(body, { token: await mint(real, 'alice', otherId) })).status).toBe(403);
    expect((await report(body, { token: await mint(real, 'bob', videoId) })).status).toBe(404);
    // A session id is bound to its video: reusing it for another one is refused.
    expect((await report(body)).status).toBe(204);
    const reused = await report(body, { id: otherId, token: await mint(real, 'alice', otherId) });
    expect(reused.status).toBe(409);
  });

  it("answers 404 for another user's video and 401 without a token", async () => {
    expect((await bob(`/api/videos/${videoId}/analytics`)).status).toBe(404);
    expect((await bob('/api/videos/not-a-uuid/analytics')).status).toBe(404);
    expect((await fetch(`${server.url}/api/videos/${videoId}/analytics`)).status).toBe(401);
    const empty = (await (await alice(`/api/videos/${otherId}/analytics`)).json()) as Record<string, unknown>;
    expect(empty).toMatchObject({
      views: 0,
      completion_rate: null,
      rebuffer_ratio: null,
      failure_rate: null,
    });
  });
});
