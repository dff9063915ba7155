// A real URL-keyed cache in front of the storage: Debian's nginx with proxy_cache stands in for a CDN (see
// docs/scale-out.md). Fifty viewer sessions of one video — the owner's and teammates' through `watch` grants — each
// fetch every segment, both caption files and the storyboard sprite through it; the origin must have served each
// object once per signing window.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { webVtt } from '@notetaker/test-support/media';
import { eachLimited, freePort, startNginxCache, type NginxCache } from '@notetaker/test-support/nginx-cache';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { segmentUris } from './helpers/hls.js';
import { makeTestMedia } from './helpers/media.js';
import {
  api,
  startTestServer,
  VARIANTS,
  waitForReadyWith,
  waitForStream,
  type TestServer,
} from './helpers/test-server.js';

const SESSIONS = 50;
const OWNER_SESSIONS = 10;
const LANGUAGES = ['en', 'fr'];

/** What one viewer session fetched from storage, by kind. */
interface Session {
  segments: string[];
  captions: string[];
  sprites: string[];
}

/** The distinct sprite URLs a storyboard WebVTT names (`<url>#xywh=…`). */
const spriteUrls = (vtt: string) => [
  ...new Set(
    vtt
      .split('\n')
      .filter((line) => line.includes('#xywh='))
      .map((line) => line.slice(0, line.indexOf('#xywh='))),
  ),
];

describe.each(VARIANTS)('a CDN (nginx proxy_cache) in front of %s storage', (variant) => {
  let server: TestServer;
  let cache: NginxCache;
  let mediaDir: string;
  let videoId: string;
  const sessions: Session[] = [];
  const cacheStatuses = new Map<string, number>();
  const all = () => sessions.flatMap((s) => [...s.segments, ...s.captions, ...s.sprites]);

  /** Fetches an object URL through the cache and counts how the cache answered it. */
  const fetchObject = async (url: string) => {
    const response = await fetch(url);
    expect(response.status, url).toBe(200);
    await response.arrayBuffer();
    const status = response.headers.get('x-cache-status') ?? 'none';
    cacheStatuses.set(status, (cacheStatuses.get(status) ?? 0) + 1);
  };

  beforeAll(async () => {
    mediaDir = await fs.mkdtemp(path.join(os.tmpdir(), 'notetaker-media-'));
    const cachePort = await freePort();
    server = await startTestServer(variant, {
      RENDITIONS: 'off',
      SEGMENT_SECONDS: '1',
      SEGMENT_CDN_URL: `http://127.0.0.1:${cachePort}`,
    });
    // The origin is the bucket (S3) or the service itself (local storage's signed routes).
    cache = await startNginxCache(variant === 'embedded' ? server.url : server.s3!.endpoint, {
      port: cachePort,
    });
    const file = await makeTestMedia(mediaDir, 'h264-aac-faststart', { seconds: 8 });
    videoId = (await server.importVideo(file, { ownerId: 'alice' })).id;
    const alice = api(server, await server.mintUserToken('alice'));
    await alice(`/api/videos/${videoId}/stream`);
    expect((await waitForStream(alice, videoId)).status).toBe(200);
    const manage = api(server, server.serviceApiKey);
    for (const language of LANGUAGES) {
      const put = await manage(`/api/manage/videos/${videoId}/captions/${language}`, {
        method: 'PUT',
        body: webVtt([[1, 2, `hello (${language})`]]),
        headers: { 'content-type': 'text/vtt' },
      });
      expect(put.status).toBe(201);
    }
    await waitForReadyWith(alice, videoId, (body) => 'storyboard_url' in body);

    const tokens = await Promise.all(
      Array.from({ length: SESSIONS }, (_, i) =>
        i < OWNER_SESSIONS
          ? server.mintUserToken('alice')
          : server.mintUserToken(`teammate-${i}`, 3600, [videoId]),
      ),
    );
    await eachLimited(tokens, 10, async (token) => {
      const { status, body } = await waitForStream(api(server, token), videoId);
      expect(status).toBe(200);
      // hls_url is the master playlist (the video has caption tracks): its playlists carry this session's token.
      const master = new URL(body['hls_url'] as string);
      const playbackToken = encodeURIComponent(master.searchParams.get('token')!);
      const playlistUrl = (name: string) => new URL(`${name}?token=${playbackToken}`, master).toString();
      const perViewer = async (name: string) => {
        const response = await fetch(playlistUrl(name));
        expect(response.status, name).toBe(200);
        expect(response.headers.get('cache-control')).toBe('private, no-store');
        return response.text();
      };
      const session: Session = {
        segments: segmentUris(await perViewer('playlist.m3u8')),
        captions: [],
        sprites: [],
      };
      for (const language of LANGUAGES) {
        session.captions.push(...segmentUris(await perViewer(`captions/${language}.m3u8`)));
      }
      session.sprites = spriteUrls(await (await fetch(body['storyboard_url'] as string)).text());
      sessions.push(session);
      for (const url of [...session.segments, ...session.captions, ...session.sprites])
        await fetchObject(url);
    });
  }, 300_000);

  afterAll(async () => {
    await cache?.stop();
    await server?.close();
    if (mediaDir) await fs.rm(mediaDir, { recursive: true, force: true });
  });

  it('hands every session the CDN URLs of the same segments, caption files and sprites', () => {
    expect(sessions).toHaveLength(SESSIONS);
    for (const session of sessions) {
      expect(session.segments.length).toBeGreaterThanOrEqual(3);
      expect(session.captions).toHaveLength(LANGUAGES.length);
      expect(session.sprites.length).toBeGreaterThanOrEqual(1);
      for (const url of [...session.segments, ...session.captions, ...session.sprites]) {
        expect(url.startsWith(`${cache.url}/`), url).toBe(true);
      }
    }
    // Within one window every session holds the same URLs (two at most if the test crossed the hour).
    for (const kind of ['captions', 'sprites'] as const) {
      expect(new Set(sessions.map((s) => s[kind].join(' '))).size, kind).toBeLessThanOrEqual(2);
    }
  });

  it('has the origin serve each object once per signing window, however many viewers fetched it', () => {
    const distinctUrls = new Set(all());
    const distinctObjects = new Set([...distinctUrls].map((url) => new URL(url).pathname));
    // Every URL handed out for an object is the same within a window (two at most if the test crossed the hour).
    expect(distinctUrls.size).toBeLessThanOrEqual(distinctObjects.size * 2);
    const byUrl = cache.originFetchesByUrl();
    for (const url of distinctUrls) {
      const { pathname, search } = new URL(url);
      expect(byUrl.get(pathname + search), pathname).toBe(1);
    }
    const originFetches = [...cache.originFetches()].filter(([pathname]) => distinctObjects.has(pathname));
    expect(originFetches).toHaveLength(distinctObjects.size);
    const total = originFetches.reduce((sum, [, count]) => sum + count, 0);
    expect(total).toBe(distinctUrls.size);
    // The other SESSIONS - 1 fetches of each object came from the cache.
    expect(cacheStatuses.get('HIT')).toBe(all().length - total);
    // Caption files and sprites among them: each fetched from the origin once per window for fifty viewers.
    const urlsOf = (kind: 'captions' | 'sprites') => new Set(sessions.flatMap((s) => s[kind]));
    for (const kind of ['captions', 'sprites'] as const) {
      const objects = new Set([...urlsOf(kind)].map((url) => new URL(url).pathname));
      if (kind === 'captions') expect(objects.size).toBe(LANGUAGES.length);
      for (const pathname of objects) {
        const urls = [...urlsOf(kind)].filter((url) => new URL(url).pathname === pathname);
        expect(cache.originFetches().get(pathname), pathname).toBe(urls.length);
      }
    }
  });

  it('still refuses a tampered or unsigned segment or caption URL through the cache', async () => {
    for (const handedOut of [sessions[0]!.segments[0]!, sessions[0]!.captions[0]!]) {
      const url = new URL(handedOut);
      const name = url.searchParams.has('X-Amz-Signature') ? 'X-Amz-Signature' : 'X-Signature';
      const signature = url.searchParams.get(name)!;
      url.searchParams.set(name, (signature[0] === 'a' ? 'b' : 'a') + signature.slice(1));
      expect((await fetch(url)).status, handedOut).toBe(403);
      url.searchParams.delete(name);
      expect((await fetch(url)).status, handedOut).toBe(403);
    }
  });
});
