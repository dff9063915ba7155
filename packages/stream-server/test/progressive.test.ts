import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { toEventPlaylist } from '../src/http/routes/playlist-routes.js';
import { createPresignCache } from '../src/videos/object-urls.js';
import { buildHlsPlaylist, parseHlsPlaylist, playlistDuration } from '../src/media/hls-playlist.js';
import { segmentUris } from './helpers/hls.js';
import { makeTestMedia } from './helpers/media.js';
import { api, startTestServer, VARIANTS, waitForStream, type TestServer } from './helpers/test-server.js';

type Body = Record<string, unknown>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Calls `read` until `done` accepts its result; fails after `timeoutMs` (a safety net, not an assertion). */
async function until<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  what: string,
  timeoutMs = 45_000,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await sleep(150);
  }
}

const pathOf = (url: string) => new URL(url).pathname;

async function expectSegmentsDownload(uris: string[]) {
  for (const uri of uris) {
    expect(uri).toMatch(/^https?:\/\//);
    const response = await fetch(uri);
    expect(response.status).toBe(200);
    expect((await response.arrayBuffer()).byteLength).toBeGreaterThan(0);
  }
}

describe('toEventPlaylist', () => {
  it('turns a stored VOD playlist into the last EVENT playlist plus EXT-X-ENDLIST, byte for byte', () => {
    const segments = [
      { uri: 'segment0.ts', durationSeconds: 6 },
      { uri: 'segment1.ts', durationSeconds: 6.2 },
      { uri: 'segment2.ts', durationSeconds: 3.4 },
    ];
    const vod = buildHlsPlaylist({ type: 'vod', segments, minTargetDurationSeconds: 6 });
    const event = buildHlsPlaylist({ type: 'event', segments, minTargetDurationSeconds: 6 });
    expect(toEventPlaylist(vod)).toBe(`${event}#EXT-X-ENDLIST\n`);
  });
});

describe('createPresignCache', () => {
  const setup = (maxEntries?: number) => {
    let time = 0;
    let signed = 0;
    const cache = createPresignCache({
      presign: async (key) => `${key}?sig=${(signed += 1)}`,
      ttlSeconds: 600,
      now: () => time,
      ...(maxEntries === undefined ? {} : { maxEntries }),
    });
    return { cache, advance: (ms: number) => void (time += ms), signed: () => signed };
  };

  it('reuses a URL while it is younger than a tenth of its lifetime, then signs it again', async () => {
    const { cache, advance, signed } = setup();
    const first = await cache.get('a');
    advance(59_999);
    expect(await cache.get('a')).toBe(first);
    advance(1);
    expect(await cache.get('a')).not.toBe(first);
    expect(signed()).toBe(2);
  });

  it('keeps at most maxEntries URLs, dropping the least recently used', async () => {
    const { cache, signed } = setup(2);
    await cache.get('a');
    await cache.get('b');
    await cache.get('a');
    await cache.get('c');
    expect(signed()).toBe(3);
    await cache.get('a');
    expect(signed()).toBe(3);
    await cache.get('b');
    expect(signed()).toBe(4);
  });
});

describe.each(VARIANTS)('playback while generating (%s)', (variant) => {
  let server: TestServer;
  let dir: string;
  let alice: ReturnType<typeof api>;

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'notetaker-progressive-'));
    // An ffmpeg that reads its input at 8× real time, so generation lasts long enough to watch it grow.
    const wrapper = path.join(dir, 'paced-ffmpeg');
    await fs.writeFile(
      wrapper,
      '#!/bin/sh\nfor arg do\n  shift\n  if [ "$arg" = "-i" ]; then set -- "$@" -readrate 8; fi\n  set -- "$@" "$arg"\ndone\nexec ffmpeg "$@"\n',
      { mode: 0o755 },
    );
    server = await startTestServer(variant, { FFMPEG_PATH: wrapper });
    alice = api(server, await server.mintUserToken('alice'));
  });

  afterAll(async () => {
    await server?.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  /** Polls `/stream` until an answer is playable; fails if the video becomes ready without ever being so. */
  const untilPlayable = async (videoId: string) =>
    until(
      async () => {
        const response = await alice(`/api/videos/${videoId}/stream`);
        return { response, body: (await response.json()) as Body };
      },
      ({ response, body }) => {
        if (response.status !== 202)
          throw new Error(`left generating (${response.status}) before being playable`);
        return body['playable'] === true;
      },
      'a playable answer',
    );

  it('hands out a growing EVENT playlist before ready, which ends with EXT-X-ENDLIST under the same URL', async () => {
    const file = await makeTestMedia(dir, 'h264-aac-faststart', { seconds: 24 });
    const { id } = await server.importVideo(file, { ownerId: 'alice' });

    const { response, body } = await untilPlayable(id);
    // Still the 202 a client that ignores the new fields knows.
    expect(response.status).toBe(202);
    expect(response.headers.get('retry-after')).toBe('2');
    expect(body).toMatchObject({ status: 'generating', retry_after: 2, playable: true });
    const hlsUrl = body['hls_url'] as string;
    expect(hlsUrl).toMatch(new RegExp(`^${server.url}/api/videos/${id}/playlist\\.m3u8\\?token=`));
    expect(new Date(body['expires_at'] as string).getTime()).toBeGreaterThan(Date.now() + 60 * 60 * 1000);

    const live = await fetch(hlsUrl);
    expect(live.status).toBe(200);
    expect(live.headers.get('content-type')).toContain('mpegurl');
    expect(live.headers.get('cache-control')).toContain('no-store');
    const livePlaylist = await live.text();
    expect(livePlaylist).toContain('#EXT-X-PLAYLIST-TYPE:EVENT');
    expect(livePlaylist).toContain('#EXT-X-START:TIME-OFFSET=0');
    expect(livePlaylist).not.toContain('#EXT-X-ENDLIST');
    const liveSegments = segmentUris(livePlaylist);
    expect(liveSegments.length).toBeGreaterThanOrEqual(1);
    // Only stored segments are listed: every one of them downloads through its presigned URL.
    await expectSegmentsDownload(liveSegments);

    const final = await until(
      async () => (await fetch(hlsUrl)).text(),
      (text) => text.includes('#EXT-X-ENDLIST'),
      'EXT-X-ENDLIST in the playlist',
    );
    expect(final).toContain('#EXT-X-PLAYLIST-TYPE:EVENT');
    expect(final).toContain('#EXT-X-START:TIME-OFFSET=0');
    const finalSegments = segmentUris(final);
    // Segments were only appended.
    expect(finalSegments.slice(0, liveSegments.length).map(pathOf)).toEqual(liveSegments.map(pathOf));
    expect(playlistDuration(parseHlsPlaylist(final).segments)).toBeCloseTo(24, 0);
    await expectSegmentsDownload([finalSegments.at(-1)!]);

    const ready = await waitForStream(alice, id);
    expect(ready).toMatchObject({ status: 200, body: { status: 'ready' } });
    const vod = await (await fetch(ready.body['hls_url'] as string)).text();
    expect(vod).toContain('#EXT-X-PLAYLIST-TYPE:VOD');
    expect(vod).toContain('#EXT-X-ENDLIST');
    expect(segmentUris(vod).map(pathOf)).toEqual(finalSegments.map(pathOf));
    // The URL handed out while generating keeps answering the same complete EVENT playlist.
    expect(segmentUris(await (await fetch(hlsUrl)).text()).map(pathOf)).toEqual(finalSegments.map(pathOf));
  });

  it("answers 404 to another user's /stream while the video is playable, and the owner's link dies with the video", async () => {
    const file = await makeTestMedia(dir, 'h264-aac-faststart', { seconds: 24 });
    const { id } = await server.importVideo(file, { ownerId: 'alice' });
    const { body } = await untilPlayable(id);

    const bob = api(server, await server.mintUserToken('bob'));
    const other = await bob(`/api/videos/${id}/stream`);
    expect(other.status).toBe(404);
    const otherBody = (await other.json()) as Body;
    expect(otherBody).toMatchObject({ error: { code: 'not_found' } });
    expect(otherBody).not.toHaveProperty('hls_url');

    // Ownership is checked on every request of the live playlist too.
    const hlsUrl = body['hls_url'] as string;
    expect((await fetch(hlsUrl)).status).toBe(200);
    const manage = api(server, server.serviceApiKey);
    expect((await manage(`/api/manage/videos/${id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await fetch(hlsUrl)).status).toBe(404);
  });
});
