import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createPlaybackTokens } from '../src/auth/playback-tokens.js';
import { chaptersToVtt, checkChapters, MAX_CHAPTERS, parseChaptersVtt } from '../src/chapters/chapters.js';
import { makeTestMedia } from './helpers/media.js';
import { api, startTestServer, VARIANTS, waitForStream, type TestServer } from './helpers/test-server.js';

const utf8 = (text: string) => new TextEncoder().encode(text);

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

const many = (count: number) =>
  Array.from({ length: count }, (_, i) => ({ start_seconds: i, title: `Part ${i + 1}` }));

describe('chapter checks', () => {
  it('normalises a valid list: trimmed titles, starts rounded to the millisecond', () => {
    expect(
      checkChapters([
        { start_seconds: 0, title: '  Intro ' },
        { start_seconds: 61.50049, title: 'Budget — Q3' },
      ]),
    ).toEqual([
      { start_seconds: 0, title: 'Intro' },
      { start_seconds: 61.5, title: 'Budget — Q3' },
    ]);
    expect(checkChapters([])).toEqual([]);
    expect(checkChapters(many(MAX_CHAPTERS))).toHaveLength(MAX_CHAPTERS);
  });

  it('refuses unsorted, duplicated or overlapping starts, a first chapter not at 0 and starts past the end', () => {
    expect(refusal(() => checkChapters([{ start_seconds: 5, title: 'a' }]))).toMatch(
      /first chapter must start at 0/,
    );
    expect(
      refusal(() =>
        checkChapters([
          { start_seconds: 0, title: 'a' },
          { start_seconds: 30, title: 'b' },
          { start_seconds: 10, title: 'c' },
        ]),
      ),
    ).toMatch(/sorted by start with unique starts: chapters\[2\]/);
    expect(
      refusal(() =>
        checkChapters([
          { start_seconds: 0, title: 'a' },
          { start_seconds: 0.0001, title: 'b' },
        ]),
      ),
    ).toMatch(/unique starts/);
    expect(
      refusal(() =>
        checkChapters(
          [
            { start_seconds: 0, title: 'a' },
            { start_seconds: 20, title: 'b' },
          ],
          12.5,
        ),
      ),
    ).toMatch(/after the video ends \(12\.5 s\)/);
    for (const start of [-1, Number.NaN, Number.POSITIVE_INFINITY, '3']) {
      expect(refusal(() => checkChapters([{ start_seconds: start, title: 'a' }]))).toMatch(
        /number of seconds/,
      );
    }
  });

  it('refuses empty, long or multi-line titles and too many chapters', () => {
    for (const title of ['', '   ', 'x'.repeat(201), 'two\nlines', 'tab\there', 'bidi\u202e', 42]) {
      expect(
        refusal(() => checkChapters([{ start_seconds: 0, title }])),
        String(title),
      ).toMatch(/title/);
    }
    expect(checkChapters([{ start_seconds: 0, title: '😀'.repeat(200) }])[0]!.title).toHaveLength(400);
    expect(refusal(() => checkChapters(many(MAX_CHAPTERS + 1)))).toMatch(/at most 500 chapters \(got 501\)/);
  });

  it('reads a WebVTT chapters file and refuses overlapping cues and invalid WebVTT', () => {
    const vtt =
      'WEBVTT\nKind: chapters\n\nNOTE made by hand\n\nintro\n00:00.000 --> 01:00.000\nIntro\n\n' +
      '01:00.000 --> 00:02:00.000\n<b>Q&amp;A</b>\nand wrap-up\n';
    expect(parseChaptersVtt(utf8(vtt))).toEqual([
      { start_seconds: 0, title: 'Intro' },
      { start_seconds: 60, title: 'Q&A and wrap-up' },
    ]);
    expect(
      refusal(() =>
        parseChaptersVtt(utf8('WEBVTT\n\n00:00.000 --> 01:00.000\nA\n\n00:30.000 --> 02:00.000\nB\n')),
      ),
    ).toMatch(/must not overlap/);
    expect(refusal(() => parseChaptersVtt(utf8('WEBVTT\n\n00:05.000 --> 01:00.000\nA\n')))).toMatch(
      /start at 0/,
    );
    expect(refusal(() => parseChaptersVtt(utf8('WEBVTT\n\n00:00,000 --> 01:00.000\nA\n')))).toMatch(
      /not valid WebVTT\. Line 3/,
    );
  });

  it('writes a chapters track whose cues end where the next starts and the last at the end of the video', () => {
    const chapters = [
      { start_seconds: 0, title: 'Intro' },
      { start_seconds: 61.5, title: 'Q&A <live>' },
    ];
    expect(chaptersToVtt(chapters, 3725.25)).toBe(
      'WEBVTT\n\n1\n00:00:00.000 --> 00:01:01.500\nIntro\n\n' +
        '2\n00:01:01.500 --> 01:02:05.250\nQ&amp;A &lt;live&gt;\n',
    );
    expect(chaptersToVtt(chapters, null)).toContain('00:01:01.500 --> 00:01:02.500');
    // What is written reads back the same.
    expect(parseChaptersVtt(utf8(chaptersToVtt(chapters, 90)))).toEqual(chapters);
  });
});

const PLAYBACK_SECRET = 'chapters-test-playback-secret-0123456789';
const CHAPTERS = [
  { start_seconds: 0, title: 'Intro' },
  { start_seconds: 1.5, title: 'Budget' },
  { start_seconds: 3, title: 'Q&A' },
];

describe.each(VARIANTS)('chapters API (%s)', (variant) => {
  let server: TestServer;
  let mediaDir: string;
  let mediaFile: string;
  let alice: ReturnType<typeof api>;
  let bob: ReturnType<typeof api>;
  let service: ReturnType<typeof api>;
  let readyId: string;

  const putJson = (call: ReturnType<typeof api>, route: string, body: unknown) =>
    call(route, {
      method: 'PUT',
      body: typeof body === 'string' ? body : JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
    });
  const errorOf = async (response: Response) =>
    ((await response.json()) as { error: { code: string; message: string } }).error;
  const newVideo = async () => (await server.importVideo(mediaFile, { ownerId: 'alice' })).id;
  const streamOf = async (id: string) => {
    const response = await alice(`/api/videos/${id}/stream`);
    expect(response.status).toBe(200);
    return (await response.json()) as Record<string, unknown>;
  };

  beforeAll(async () => {
    mediaDir = await fs.mkdtemp(path.join(os.tmpdir(), 'notetaker-media-'));
    server = await startTestServer(variant, { PLAYBACK_SECRET, CORS_ORIGINS: '*' });
    alice = api(server, await server.mintUserToken('alice'));
    bob = api(server, await server.mintUserToken('bob'));
    service = api(server, server.serviceApiKey);
    mediaFile = await makeTestMedia(mediaDir, 'h264-aac-faststart', { seconds: 4 });
    readyId = await newVideo();
    await alice(`/api/videos/${readyId}/stream`);
    expect((await waitForStream(alice, readyId)).body['status']).toBe('ready');
  });

  afterAll(async () => {
    await server?.close();
    await fs.rm(mediaDir, { recursive: true, force: true });
  });

  it('sets, reads, replaces and deletes chapters as JSON; /stream carries chapters_url while there are some', async () => {
    const route = `/api/videos/${readyId}/chapters`;
    expect(await (await alice(route)).json()).toEqual({ chapters: [], updated_at: null });
    expect(await streamOf(readyId)).not.toHaveProperty('chapters_url');

    const put = await putJson(alice, route, { chapters: CHAPTERS });
    expect(put.status).toBe(200);
    const saved = (await put.json()) as { chapters: unknown; updated_at: string };
    expect(saved.chapters).toEqual(CHAPTERS);
    expect(Date.parse(saved.updated_at)).not.toBeNaN();
    expect(await (await alice(route)).json()).toEqual(saved);

    const stream = await streamOf(readyId);
    const chaptersUrl = stream['chapters_url'] as string;
    expect(chaptersUrl).toMatch(new RegExp(`/api/videos/${readyId}/chapters\\.vtt\\?token=`));
    expect(new URL(chaptersUrl).searchParams.get('token')).toBe(
      new URL(stream['hls_url'] as string).searchParams.get('token'),
    );
    const track = await fetch(chaptersUrl, { headers: { origin: 'https://host.example' } });
    expect(track.status).toBe(200);
    expect(track.headers.get('content-type')).toBe('text/vtt; charset=utf-8');
    expect(track.headers.get('access-control-allow-origin')).toBe('*');
    const text = await track.text();
    expect(text).toMatch(/^WEBVTT\n\n1\n00:00:00\.000 --> 00:00:01\.500\nIntro\n/);
    expect(text).toContain('Q&amp;A');
    const video = (await (await alice(`/api/videos/${readyId}`)).json()) as { duration_seconds: number };
    expect(parseChaptersVtt(utf8(text), video.duration_seconds)).toEqual(CHAPTERS);

    const replaced = await putJson(alice, route, { chapters: CHAPTERS.slice(0, 1) });
    expect(((await replaced.json()) as { chapters: unknown[] }).chapters).toHaveLength(1);

    expect((await alice(route, { method: 'DELETE' })).status).toBe(204);
    expect((await alice(route, { method: 'DELETE' })).status).toBe(404);
    expect(await streamOf(readyId)).not.toHaveProperty('chapters_url');
    expect((await fetch(chaptersUrl)).status).toBe(404);
  });

  it('takes a WebVTT kind=chapters file', async () => {
    const id = await newVideo();
    const response = await alice(`/api/videos/${id}/chapters`, {
      method: 'PUT',
      body: '\uFEFFWEBVTT\r\n\r\n00:00.000 --> 00:02.000\r\nOpening\r\n\r\n00:02.000 --> 00:04.000\r\nClose\r\n',
      headers: { 'content-type': 'text/vtt; charset=utf-8' },
    });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { chapters: unknown }).chapters).toEqual([
      { start_seconds: 0, title: 'Opening' },
      { start_seconds: 2, title: 'Close' },
    ]);
  });

  it('refuses malformed bodies with a 4xx JSON error and keeps what was there', async () => {
    const id = await newVideo();
    const route = `/api/videos/${id}/chapters`;
    expect((await putJson(alice, route, { chapters: CHAPTERS })).status).toBe(200);
    const bad: Array<[unknown, RegExp]> = [
      ['{"chapters": [', /not valid JSON/],
      [{ chapters: 'none' }, /chapters/],
      [{}, /chapters/],
      [{ chapters: [{ start_seconds: 0 }] }, /title/],
      [
        {
          chapters: [
            { start_seconds: 0, title: 'a' },
            { start_seconds: 0, title: 'b' },
          ],
        },
        /unique starts/,
      ],
      [
        {
          chapters: [
            { start_seconds: 0, title: 'a' },
            { start_seconds: 2, title: 'b' },
            { start_seconds: 1, title: 'c' },
          ],
        },
        /sorted/,
      ],
      [{ chapters: [{ start_seconds: 1, title: 'a' }] }, /start at 0/],
      [{ chapters: [{ start_seconds: 0, title: 'x'.repeat(201) }] }, /1–200 characters/],
      [{ chapters: many(501) }, /at most 500/],
    ];
    for (const [body, message] of bad) {
      const response = await putJson(alice, route, body);
      expect(response.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      const error = await errorOf(response);
      expect(error.code).toBe('bad_request');
      expect(error.message).toMatch(message);
    }
    // Once the duration is known (the ready video), a chapter may not start after the end.
    const late = await putJson(alice, `/api/videos/${readyId}/chapters`, {
      chapters: [
        { start_seconds: 0, title: 'a' },
        { start_seconds: 9999, title: 'late' },
      ],
    });
    expect(late.status).toBe(400);
    expect((await errorOf(late)).message).toMatch(/after the video ends/);
    const overlapping = await alice(route, {
      method: 'PUT',
      body: 'WEBVTT\n\n00:00.000 --> 00:03.000\nA\n\n00:01.000 --> 00:04.000\nB\n',
      headers: { 'content-type': 'text/vtt' },
    });
    expect(overlapping.status).toBe(400);
    expect((await errorOf(overlapping)).message).toMatch(/overlap/);
    const form = await alice(route, {
      method: 'PUT',
      body: 'chapters=1',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(form.status).toBe(415);
    expect((await errorOf(form)).code).toBe('unsupported_media_type');
    expect(((await (await alice(route)).json()) as { chapters: unknown }).chapters).toEqual(CHAPTERS);
  });

  it('refuses a body over 512 KiB with 413 (and accepts 500 long titles, over the generic JSON limit)', async () => {
    const id = await newVideo();
    const route = `/api/videos/${id}/chapters`;
    const huge = await putJson(alice, route, {
      chapters: [{ start_seconds: 0, title: 'x'.repeat(600 * 1024) }],
    });
    expect(huge.status).toBe(413);
    expect(await errorOf(huge)).toEqual({
      code: 'payload_too_large',
      message: expect.stringContaining('512 KiB'),
    });

    const long = Array.from({ length: 500 }, (_, i) => ({
      start_seconds: i / 200,
      title: `${i} ${'é'.repeat(190)}`,
    }));
    const accepted = await putJson(alice, route, { chapters: long });
    expect(accepted.status).toBe(200);
    expect(((await accepted.json()) as { chapters: unknown[] }).chapters).toHaveLength(500);
  });

  it("answers 404 for another user's video or an unknown one, 401 without a token", async () => {
    const id = await newVideo();
    expect((await putJson(alice, `/api/videos/${id}/chapters`, { chapters: CHAPTERS })).status).toBe(200);
    for (const target of [id, '00000000-0000-4000-8000-000000000000', 'not-a-uuid']) {
      const route = `/api/videos/${target}/chapters`;
      expect((await putJson(bob, route, { chapters: CHAPTERS })).status, target).toBe(404);
      expect((await bob(route)).status, target).toBe(404);
      expect((await bob(route, { method: 'DELETE' })).status, target).toBe(404);
    }
    expect((await fetch(`${server.url}/api/videos/${id}/chapters`)).status).toBe(401);
    expect(
      ((await (await alice(`/api/videos/${id}/chapters`)).json()) as { chapters: unknown }).chapters,
    ).toEqual(CHAPTERS);
  });

  it('checks the playback token of chapters.vtt like the playlist: missing, forged, another video, not the owner', async () => {
    expect((await putJson(alice, `/api/videos/${readyId}/chapters`, { chapters: CHAPTERS })).status).toBe(
      200,
    );
    const url = `${server.url}/api/videos/${readyId}/chapters.vtt`;
    const real = createPlaybackTokens(PLAYBACK_SECRET);
    const forged = createPlaybackTokens('some-other-secret-0123456789-abcdef');
    const mint = async (tokens: typeof real, userId: string, videoId: string) =>
      encodeURIComponent((await tokens.mint({ userId, videoId }, 60)).token);
    const otherVideo = await newVideo();
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(`${url}?token=garbage`)).status).toBe(401);
    expect((await fetch(`${url}?token=${await mint(forged, 'alice', readyId)}`)).status).toBe(401);
    expect((await fetch(`${url}?token=${await mint(real, 'alice', otherVideo)}`)).status).toBe(403);
    expect((await fetch(`${url}?token=${await mint(real, 'bob', readyId)}`)).status).toBe(404);
    expect((await fetch(`${url}?token=${await mint(real, 'alice', readyId)}`)).status).toBe(200);
    // A user's bearer token is not a playback token.
    expect((await alice(`/api/videos/${readyId}/chapters.vtt`)).status).toBe(401);
  });

  it('manages chapters with the service API key under /api/manage; deleting the video deletes them', async () => {
    const id = await newVideo();
    const route = `/api/manage/videos/${id}/chapters`;
    expect((await putJson(service, route, { chapters: CHAPTERS })).status).toBe(200);
    expect(
      ((await (await alice(`/api/videos/${id}/chapters`)).json()) as { chapters: unknown }).chapters,
    ).toEqual(CHAPTERS);
    expect(((await (await service(route)).json()) as { chapters: unknown }).chapters).toEqual(CHAPTERS);
    expect((await putJson(api(server, 'wrong-key'), route, { chapters: CHAPTERS })).status).toBe(401);
    expect((await fetch(`${server.url}${route}`)).status).toBe(401);
    expect((await service('/api/manage/videos/00000000-0000-4000-8000-000000000000/chapters')).status).toBe(
      404,
    );
    expect((await service(route, { method: 'DELETE' })).status).toBe(204);
    expect((await service(route, { method: 'DELETE' })).status).toBe(404);

    expect((await putJson(service, route, { chapters: CHAPTERS })).status).toBe(200);
    expect((await service(`/api/manage/videos/${id}`, { method: 'DELETE' })).status).toBe(204);
    const rows = await server.database.db
      .selectFrom('video_chapters')
      .selectAll()
      .where('video_id', '=', id)
      .execute();
    expect(rows).toEqual([]);
  });
});

describe('chapters when USER_UPLOADS is off', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer('embedded', { USER_UPLOADS: 'false' });
  });

  afterAll(async () => {
    await server?.close();
  });

  it('refuses user writes with 403 and takes them through the management API', async () => {
    const service = api(server, server.serviceApiKey);
    const registered = await service('/api/manage/videos', {
      method: 'POST',
      body: JSON.stringify({ owner_id: 'alice' }),
    });
    const { video } = (await registered.json()) as { video: { id: string } };
    const alice = api(server, await server.mintUserToken('alice'));
    const body = JSON.stringify({ chapters: CHAPTERS });
    const denied = await alice(`/api/videos/${video.id}/chapters`, { method: 'PUT', body });
    expect(denied.status).toBe(403);
    expect(((await denied.json()) as { error: { message: string } }).error.message).toMatch(/USER_UPLOADS/);
    expect((await service(`/api/manage/videos/${video.id}/chapters`, { method: 'PUT', body })).status).toBe(
      200,
    );
    expect((await alice(`/api/videos/${video.id}/chapters`, { method: 'DELETE' })).status).toBe(403);
    expect(
      ((await (await alice(`/api/videos/${video.id}/chapters`)).json()) as { chapters: unknown }).chapters,
    ).toEqual(CHAPTERS);
  });
});
