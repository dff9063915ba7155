// A real URL-keyed cache in front of the storage: Debian's nginx with proxy_cache stands in for a CDN (see
// docs/scale-out.md). Fifty viewer sessions of one video — the owner's and teammates' through `watch` grants — each
// fetch every segment through it; the origin must have served each object once per signing window.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { eachLimited, freePort, startNginxCache, type NginxCache } from '@notetaker/test-support/nginx-cache';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { segmentUris } from './helpers/hls.js';
import { makeTestMedia } from './helpers/media.js';
import { api, startTestServer, VARIANTS, waitForStream, type TestServer } from './helpers/test-server.js';

const SESSIONS = 50;
const OWNER_SESSIONS = 10;

describe.each(VARIANTS)('a CDN (nginx proxy_cache) in front of %s storage', (variant) => {
  let server: TestServer;
  let cache: NginxCache;
  let mediaDir: string;
  let videoId: string;
  const segmentsBySession: string[][] = [];
  const cacheStatuses = new Map<string, number>();

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
      const playlist = await fetch(body['hls_url'] as string);
      expect(playlist.headers.get('cache-control')).toBe('private, no-store');
      const segments = segmentUris(await playlist.text());
      segmentsBySession.push(segments);
      for (const segment of segments) {
        const response = await fetch(segment);
        expect(response.status, segment).toBe(200);
        await response.arrayBuffer();
        const status = response.headers.get('x-cache-status') ?? 'none';
        cacheStatuses.set(status, (cacheStatuses.get(status) ?? 0) + 1);
      }
    });
  }, 240_000);

  afterAll(async () => {
    await cache?.stop();
    await server?.close();
    if (mediaDir) await fs.rm(mediaDir, { recursive: true, force: true });
  });

  it('hands every session the CDN URLs of the same objects', () => {
    expect(segmentsBySession).toHaveLength(SESSIONS);
    for (const segments of segmentsBySession) {
      expect(segments.length).toBeGreaterThanOrEqual(3);
      for (const segment of segments) expect(segment.startsWith(`${cache.url}/`)).toBe(true);
    }
  });

  it('has the origin serve each object once per signing window, however many viewers fetched it', () => {
    const distinctUrls = new Set(segmentsBySession.flat());
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
    expect(cacheStatuses.get('HIT')).toBe(segmentsBySession.flat().length - total);
  });

  it('still refuses a tampered or unsigned segment URL through the cache', async () => {
    const url = new URL(segmentsBySession[0]![0]!);
    const name = url.searchParams.has('X-Amz-Signature') ? 'X-Amz-Signature' : 'X-Signature';
    const signature = url.searchParams.get(name)!;
    url.searchParams.set(name, (signature[0] === 'a' ? 'b' : 'a') + signature.slice(1));
    expect((await fetch(url)).status).toBe(403);
    url.searchParams.delete(name);
    expect((await fetch(url)).status).toBe(403);
  });
});
