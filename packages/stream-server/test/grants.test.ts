import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { decodeJwt, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { mintUserToken } from '../src/auth/user-tokens.js';
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

const SECRET = 'grants-test-secret-with-enough-bytes';
const VTT = 'WEBVTT\n\n00:00.000 --> 00:01.000\nHello\n';

/** A token signed with the server's secret whose `watch` claim is whatever the test gives. */
async function tokenWithWatch(sub: string, watch: unknown): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ watch })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(sub)
    .setIssuedAt(now)
    .setExpirationTime(now + 600)
    .sign(new TextEncoder().encode(SECRET));
}

describe.each(VARIANTS)('watch grants (%s)', (variant) => {
  let server: TestServer;
  let mediaDir: string;
  /** alice's shared video, ready with a rendition, a poster, a storyboard and captions. */
  let shared: string;
  /** another video of alice's, granted to nobody here but mallory. */
  let other: string;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    mediaDir = await fs.mkdtemp(path.join(os.tmpdir(), 'notetaker-media-'));
    server = await startTestServer(variant, {
      AUTH_JWT_SECRET: SECRET,
      USER_UPLOADS: 'true',
      RENDITIONS: '360',
      SEGMENT_SECONDS: '2',
    });
    const file = await makeTestMedia(mediaDir, 'h264-aac-1080p', { seconds: 4 });
    shared = (await server.importVideo(file, { ownerId: 'alice' })).id;
    other = (await server.importVideo(file, { ownerId: 'alice' })).id;
    const manage = api(server, server.serviceApiKey);
    const put = await manage(`/api/manage/videos/${shared}/captions/en`, {
      method: 'PUT',
      body: VTT,
      headers: { 'content-type': 'text/vtt' },
    });
    expect(put.status).toBe(201);

    tokens['owner'] = await server.mintUserToken('alice');
    tokens['grantee'] = await server.mintUserToken('bob', 3600, [shared]);
    tokens['nonGrantee'] = await server.mintUserToken('eve');
    tokens['otherGrant'] = await server.mintUserToken('mallory', 3600, [other]);
    tokens['expired'] = await mintUserToken({
      secret: SECRET,
      sub: 'bob',
      watch: [shared],
      ttlSeconds: 60,
      now: new Date(Date.now() - 3600_000),
    });
    tokens['watchNotArray'] = await tokenWithWatch('bob', shared);
    tokens['watchNotStrings'] = await tokenWithWatch('bob', [shared, 42]);
    tokens['watchTooMany'] = await tokenWithWatch('bob', [
      shared,
      ...Array.from({ length: 100 }, (_, i) => `v${i}`),
    ]);

    const alice = api(server, tokens['owner']);
    await alice(`/api/videos/${shared}/stream`);
    const ready = await waitForReadyWith(
      alice,
      shared,
      (body) =>
        String(body['hls_url']).includes('/master.m3u8') && 'poster_url' in body && 'storyboard_url' in body,
      180_000,
    );
    // The 360p rung lands in the master once its task is done.
    for (let i = 0; i < 900; i += 1) {
      if ((await (await fetch(ready['hls_url'] as string)).text()).includes('360p.m3u8')) break;
      await new Promise((r) => setTimeout(r, 200));
    }
  }, 240_000);

  afterAll(async () => {
    await server?.close();
    if (mediaDir) await fs.rm(mediaDir, { recursive: true, force: true });
  });

  /** What each kind of caller gets from a bearer-token route. */
  const statuses = async (route: string, init: RequestInit = {}) => {
    const out: Record<string, number> = {};
    for (const [who, token] of Object.entries(tokens)) {
      const response = await api(server, token)(route, init);
      out[who] = response.status;
      await response.body?.cancel();
    }
    return out;
  };

  const playbackCallers = {
    owner: 200,
    grantee: 200,
    nonGrantee: 404,
    otherGrant: 404,
    expired: 401,
    watchNotArray: 401,
    watchNotStrings: 401,
    watchTooMany: 401,
  };

  it('GET /stream: the owner and the grantee play; no grant or a grant for another video is 404; bad tokens 401', async () => {
    expect(await statuses(`/api/videos/${shared}/stream`)).toEqual(playbackCallers);
  });

  it('POST /stream/retry: the grantee reaches the same check as the owner (409 on a ready video)', async () => {
    expect(await statuses(`/api/videos/${shared}/stream/retry`, { method: 'POST' })).toEqual({
      ...playbackCallers,
      owner: 409,
      grantee: 409,
    });
  });

  it('GET /captions (the list): the owner and the grantee read it', async () => {
    expect(await statuses(`/api/videos/${shared}/captions`)).toEqual(playbackCallers);
  });

  it("the grantee's playback URLs all answer, and their token records the viewer", async () => {
    const bob = api(server, tokens['grantee']);
    const { status, body } = await waitForStream(bob, shared);
    expect(status).toBe(200);
    const hlsUrl = body['hls_url'] as string;
    const playbackToken = new URL(hlsUrl).searchParams.get('token')!;
    expect(decodeJwt(playbackToken)).toMatchObject({ sub: 'bob', vid: shared, shr: true });

    const master = await fetch(hlsUrl);
    expect(master.status).toBe(200);
    const masterText = await master.text();
    const uris = segmentUris(masterText).map((uri) => new URL(uri, hlsUrl).toString());
    const captionPlaylist = /URI="([^"]+)"/.exec(masterText)?.[1];
    expect(captionPlaylist).toBeDefined();
    uris.push(new URL(captionPlaylist!, hlsUrl).toString());
    expect(uris.some((uri) => uri.includes('/renditions/360p.m3u8'))).toBe(true);
    expect(uris.some((uri) => uri.includes('/playlist.m3u8'))).toBe(true);
    for (const uri of uris) {
      const playlist = await fetch(uri);
      expect(playlist.status, uri).toBe(200);
      for (const inner of segmentUris(await playlist.text())) {
        const response = await fetch(new URL(inner, uri));
        expect(response.status, inner).toBe(200);
        await response.body?.cancel();
      }
    }
    const poster = await fetch(body['poster_url'] as string, { redirect: 'manual' });
    expect(poster.status).toBe(302);
    const storyboard = await fetch(body['storyboard_url'] as string);
    expect(storyboard.status).toBe(200);
    const sprite = /^(http\S+)#xywh=/m.exec(await storyboard.text())?.[1];
    expect((await fetch(sprite!)).status).toBe(200);
  });

  it('owner and grantee get byte-identical object URLs in per-viewer no-store playlists; objects are cacheable until they expire', async () => {
    const urlsOf = async (who: string) => {
      const { body } = await waitForStream(api(server, tokens[who]), shared);
      const master = await fetch(body['hls_url'] as string);
      expect(master.headers.get('cache-control')).toBe('private, no-store');
      const base = body['hls_url'] as string;
      const masterText = await master.text();
      const variants = segmentUris(masterText).map((uri) => new URL(uri, base).toString());
      const out: string[] = [];
      for (const variant of variants) {
        const playlist = await fetch(variant);
        expect(playlist.headers.get('cache-control')).toBe('private, no-store');
        out.push(...segmentUris(await playlist.text()));
      }
      const storyboard = await (await fetch(body['storyboard_url'] as string)).text();
      out.push(...[...storyboard.matchAll(/^(http\S+)#xywh=/gm)].map((m) => m[1]!));
      return { variants, out };
    };
    const before = Date.now();
    const owner = await urlsOf('owner');
    const grantee = await urlsOf('grantee');
    const after = Date.now();
    // The playlists are the viewer's own (their playback tokens differ)...
    expect(owner.variants).not.toEqual(grantee.variants);
    // ...the objects in them are the same URLs, unless a window boundary fell between the two.
    const window = 3600_000;
    if (Math.floor(before / window) === Math.floor(after / window)) expect(grantee.out).toEqual(owner.out);
    expect(owner.out.length).toBeGreaterThan(2);
    const ttl = server.config.presignTtlSeconds;
    for (const url of owner.out.slice(0, 3)) {
      const response = await fetch(url);
      expect(response.status).toBe(200);
      await response.arrayBuffer();
      const fetchedAt = Date.now();
      const q = new URL(url).searchParams;
      const expiresAtMs =
        variant === 'embedded'
          ? Number(q.get('X-Expires')) * 1000
          : Date.parse(
              q
                .get('X-Amz-Date')!
                .replace(/(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z/, '$1-$2-$3T$4:$5:$6Z'),
            ) +
            Number(q.get('X-Amz-Expires')) * 1000;
      // Valid at least the TTL after hand-out, and at most the TTL plus one window.
      expect(expiresAtMs).toBeGreaterThanOrEqual(before - 1000 + ttl * 1000);
      expect(expiresAtMs).toBeLessThanOrEqual(after + ttl * 1000 + window);
      const cacheControl = response.headers.get('cache-control') ?? '';
      expect(cacheControl).toContain('public');
      if (variant === 'embedded') {
        const maxAge = Number(/max-age=(\d+)/.exec(cacheControl)?.[1]);
        expect(Math.abs(fetchedAt / 1000 + maxAge - expiresAtMs / 1000)).toBeLessThanOrEqual(2);
      } else {
        expect(Date.parse(response.headers.get('expires')!)).toBe(expiresAtMs);
      }
    }
  });

  it("a grantee's playback token opens no other video", async () => {
    const { body } = await waitForStream(api(server, tokens['grantee']), shared);
    const elsewhere = new URL(body['hls_url'] as string);
    elsewhere.pathname = elsewhere.pathname.replace(shared, other);
    expect((await fetch(elsewhere)).status).toBe(403);
  });

  it('everything but playback stays with the owner: lists, the video, deletes, uploads, caption writes', async () => {
    const bob = api(server, tokens['grantee']);
    const listed = (await (await bob('/api/videos')).json()) as { videos: Array<{ id: string }> };
    expect(listed.videos.map((v) => v.id)).not.toContain(shared);
    expect((await bob(`/api/videos/${shared}`)).status).toBe(404);
    expect((await bob(`/api/videos/${shared}`, { method: 'DELETE' })).status).toBe(404);
    expect((await bob(`/api/videos/${shared}/upload/complete`, { method: 'POST', body: '{}' })).status).toBe(
      404,
    );
    expect(
      (await bob(`/api/videos/${shared}/upload/parts`, { method: 'POST', body: '{"part_numbers":[1]}' }))
        .status,
    ).toBe(404);
    const putCaption = await bob(`/api/videos/${shared}/captions/fr`, {
      method: 'PUT',
      body: VTT,
      headers: { 'content-type': 'text/vtt' },
    });
    expect(putCaption.status).toBe(404);
    expect((await bob(`/api/videos/${shared}/captions/en`, { method: 'DELETE' })).status).toBe(404);
    // The owner still has it all.
    expect((await api(server, tokens['owner'])(`/api/videos/${shared}`)).status).toBe(200);
  });

  it('POST /api/manage/tokens mints a token with a watch grant that plays the video', async () => {
    const manage = api(server, server.serviceApiKey);
    const before = Date.now();
    const response = await manage('/api/manage/tokens', {
      method: 'POST',
      body: JSON.stringify({ sub: 'carol', watch: [shared], ttl_seconds: 600 }),
    });
    expect(response.status).toBe(201);
    const minted = (await response.json()) as { token: string; expires_at: string };
    const expiresAt = Date.parse(minted.expires_at);
    expect(expiresAt).toBeGreaterThanOrEqual(before - 1000 + 600_000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 600_000);
    expect(decodeJwt(minted.token)).toMatchObject({ sub: 'carol', watch: [shared] });
    expect((await api(server, minted.token)(`/api/videos/${shared}/stream`)).status).toBe(200);
    expect((await api(server, minted.token)(`/api/videos/${other}/stream`)).status).toBe(404);
  });

  it('POST /api/manage/tokens refuses a bad body (400) and a caller without the service key (401)', async () => {
    const manage = api(server, server.serviceApiKey);
    const bad = await manage('/api/manage/tokens', {
      method: 'POST',
      body: JSON.stringify({ sub: 'carol', watch: shared }),
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: 'bad_request' } });
    const tooMany = await manage('/api/manage/tokens', {
      method: 'POST',
      body: JSON.stringify({ sub: 'carol', watch: Array.from({ length: 101 }, () => shared) }),
    });
    expect(tooMany.status).toBe(400);
    const asUser = await api(server, tokens['owner'])('/api/manage/tokens', {
      method: 'POST',
      body: JSON.stringify({ sub: 'carol' }),
    });
    expect(asUser.status).toBe(401);
  });
});
