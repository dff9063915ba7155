import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { segmentUris } from './helpers/hls.js';
import { makeTestMedia } from './helpers/media.js';
import { api, startTestServer, VARIANTS, waitForStream, type TestServer } from './helpers/test-server.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function tamper(url: string): string {
  const u = new URL(url);
  for (const name of ['X-Amz-Signature', 'X-Signature']) {
    const value = u.searchParams.get(name);
    if (value) {
      const last = value.at(-1) === 'a' ? 'b' : 'a';
      u.searchParams.set(name, value.slice(0, -1) + last);
    }
  }
  return u.toString();
}

function stripSignature(url: string): string {
  const u = new URL(url);
  for (const name of ['X-Amz-Signature', 'X-Signature']) u.searchParams.delete(name);
  return u.toString();
}

describe.each(VARIANTS)('private playback (%s)', (variant) => {
  let server: TestServer;
  let mediaDir: string;
  let videoId: string;
  let alice: ReturnType<typeof api>;

  beforeAll(async () => {
    mediaDir = await fs.mkdtemp(path.join(os.tmpdir(), 'notetaker-media-'));
    // Segment URLs (and playback tokens) live 3 seconds here, to watch them expire.
    server = await startTestServer(variant, { PRESIGN_TTL_SECONDS: '3', PRESIGN_WINDOW_SECONDS: '1' });
    alice = api(server, await server.mintUserToken('alice'));
    const file = await makeTestMedia(mediaDir, 'h264-aac-faststart', { seconds: 8 });
    videoId = (await server.importVideo(file, { ownerId: 'alice' })).id;
    await alice(`/api/videos/${videoId}/stream`);
    await waitForStream(alice, videoId);
  });

  afterAll(async () => {
    await server?.close();
    await fs.rm(mediaDir, { recursive: true, force: true });
  });

  const freshPlaylist = async () => {
    const { body } = await waitForStream(alice, videoId);
    const hlsUrl = body['hls_url'] as string;
    const text = await (await fetch(hlsUrl)).text();
    return { hlsUrl, segments: segmentUris(text) };
  };

  it('refuses a segment URL whose signature was tampered with, or removed', async () => {
    const { segments } = await freshPlaylist();
    const url = segments[0]!;
    expect((await fetch(url)).status).toBe(200);
    expect((await fetch(tamper(url))).status).toBe(403);
    expect((await fetch(stripSignature(url))).status).toBe(403);
  });

  it('refuses a segment URL once it has expired, and /stream hands out fresh ones', async () => {
    const { segments } = await freshPlaylist();
    await sleep(4500);
    expect((await fetch(segments[0]!)).status).toBe(403);
    const again = await freshPlaylist();
    expect((await fetch(again.segments[0]!)).status).toBe(200);
  });

  it('refuses the playlist with an expired, tampered or missing playback token', async () => {
    const { hlsUrl } = await freshPlaylist();
    const noToken = new URL(hlsUrl);
    noToken.searchParams.delete('token');
    expect((await fetch(noToken)).status).toBe(401);
    const tampered = new URL(hlsUrl);
    tampered.searchParams.set('token', `${tampered.searchParams.get('token')!}x`);
    expect((await fetch(tampered)).status).toBe(401);
    await sleep(4500);
    const expired = await fetch(hlsUrl);
    expect(expired.status).toBe(401);
    expect(await expired.json()).toMatchObject({ error: { code: 'unauthorized' } });
  });

  it('checks ownership on every playlist request, not only on /stream', async () => {
    const { hlsUrl } = await freshPlaylist();
    expect((await fetch(hlsUrl)).status).toBe(200);
    // The video changes hands (e.g. deleted and the id reused is impossible, so delete it): the link dies with it.
    const manage = api(server, server.serviceApiKey);
    expect((await manage(`/api/manage/videos/${videoId}`, { method: 'DELETE' })).status).toBe(204);
    expect((await fetch(hlsUrl)).status).toBe(404);
  });

  it('refuses to use a playback token for another video', async () => {
    const file = await makeTestMedia(mediaDir, 'h264-aac-faststart', { seconds: 6 });
    const other = (await server.importVideo(file, { ownerId: 'alice' })).id;
    await alice(`/api/videos/${other}/stream`);
    const { body } = await waitForStream(alice, other);
    const url = new URL(body['hls_url'] as string);
    const token = url.searchParams.get('token')!;
    const third = (await server.importVideo(file, { ownerId: 'alice' })).id;
    const response = await fetch(
      `${server.url}/api/videos/${third}/playlist.m3u8?token=${encodeURIComponent(token)}`,
    );
    expect(response.status).toBe(403);
  });
});
