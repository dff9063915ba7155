// Signed playlists kept per signing window (videos/signed-playlists.ts), on real local storage: one read and one
// signing per playlist, version and window; a new window, a new version or a failed read is never answered from an
// old answer.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { createLocalStorage, type LocalStorage } from '../src/storage/local-storage.js';
import { createObjectUrls } from '../src/videos/object-urls.js';
import { createSignedPlaylists } from '../src/videos/signed-playlists.js';

const HOUR = 3600;
const TTL = 6 * HOUR;
const KEY = 'videos/u/v_hls/playlist.m3u8';
const at = (iso: string) => Date.parse(iso);
const playlist = (...segments: string[]) =>
  `#EXTM3U\n#EXT-X-TARGETDURATION:6\n${segments.map((s) => `#EXTINF:6,\n${s}\n`).join('')}#EXT-X-ENDLIST\n`;

let root: string;
let storage: LocalStorage;
let time: number;
let reads: string[];

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'signed-playlists-'));
  time = at('2026-12-06T10:00:05Z');
  storage = createLocalStorage({
    root,
    secret: 'a-local-secret-of-enough-bytes',
    publicBaseUrl: () => 'http://stream.test',
    now: () => time,
  });
  reads = [];
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** The playlists of one service, with the storage's reads recorded. */
function playlists(options: { windowSeconds?: number; maxChars?: number } = {}) {
  const objectUrls = createObjectUrls({
    storage,
    presignTtlSeconds: TTL,
    presignWindowSeconds: options.windowSeconds ?? HOUR,
    now: () => time,
  });
  return createSignedPlaylists({
    storage: {
      getObjectText: (key, opts) => {
        reads.push(key);
        return storage.getObjectText(key, opts);
      },
    },
    objectUrls,
    ...(options.maxChars === undefined ? {} : { maxChars: options.maxChars }),
  });
}

const segmentUrls = (body: string) => body.split('\n').filter((line) => line.startsWith('http'));

describe('signed playlists', () => {
  it('reads and signs a playlist once per window and version, and answers every request of the window alike', async () => {
    await storage.putObject(KEY, playlist('segment00000.ts', 'segment00001.ts'), {
      contentType: 'application/vnd.apple.mpegurl',
    });
    const kept = playlists();
    const [a, b] = await Promise.all([kept.get(KEY, 'run-1'), kept.get(KEY, 'run-1')]);
    time = at('2026-12-06T10:59:59Z');
    const c = await kept.get(KEY, 'run-1');
    expect(b).toBe(a);
    expect(c).toBe(a);
    expect(reads).toEqual([KEY]);
    const urls = segmentUrls(a);
    expect(urls).toHaveLength(2);
    expect(urls[0]).toMatch(/^http:\/\/stream\.test\/storage\/o\/videos\/u\/v_hls\/segment00000\.ts\?/);

    // The next window signs anew, with URLs of that window.
    time = at('2026-12-06T11:00:00Z');
    const next = await kept.get(KEY, 'run-1');
    expect(reads).toEqual([KEY, KEY]);
    expect(segmentUrls(next)).not.toEqual(urls);
    expect(next.replace(/http\S+/g, 'URL')).toBe(a.replace(/http\S+/g, 'URL'));
  });

  it('reads a playlist rewritten by a new generation run (a new version) at once', async () => {
    await storage.putObject(KEY, playlist('segment00000.ts'), {
      contentType: 'application/vnd.apple.mpegurl',
    });
    const kept = playlists();
    expect(segmentUrls(await kept.get(KEY, 'run-1'))).toHaveLength(1);
    await storage.putObject(KEY, playlist('segment00000.ts', 'segment00001.ts', 'segment00002.ts'), {
      contentType: 'application/vnd.apple.mpegurl',
    });
    expect(segmentUrls(await kept.get(KEY, 'run-2'))).toHaveLength(3);
    // A form of the same version is its own entry.
    const event = await kept.get(KEY, 'run-2', {
      name: 'event',
      transform: (text) => text.replace('#EXTM3U\n', '#EXTM3U\n#EXT-X-PLAYLIST-TYPE:EVENT\n'),
    });
    expect(event).toContain('#EXT-X-PLAYLIST-TYPE:EVENT');
    expect(reads).toEqual([KEY, KEY, KEY]);
  });

  it('keeps no failed read: a playlist missing at first is read again', async () => {
    const kept = playlists();
    await expect(kept.get(KEY, 'run-1')).rejects.toThrow();
    await storage.putObject(KEY, playlist('segment00000.ts'), {
      contentType: 'application/vnd.apple.mpegurl',
    });
    expect(segmentUrls(await kept.get(KEY, 'run-1'))).toHaveLength(1);
    expect(reads).toEqual([KEY, KEY]);
  });

  it('drops the least recently used playlists beyond its bound', async () => {
    const other = 'videos/u/w_hls/playlist.m3u8';
    await storage.putObject(KEY, playlist('segment00000.ts'), {
      contentType: 'application/vnd.apple.mpegurl',
    });
    await storage.putObject(other, playlist('segment00000.ts'), {
      contentType: 'application/vnd.apple.mpegurl',
    });
    const size = (await playlists().get(KEY, 'run-1')).length;
    reads = [];
    // Room for one of the two.
    const kept = playlists({ maxChars: size + 10 });
    await kept.get(KEY, 'run-1');
    await kept.get(KEY, 'run-1');
    await kept.get(other, 'run-1');
    await kept.get(KEY, 'run-1');
    expect(reads).toEqual([KEY, other, KEY]);
  });

  it('signs on every request when URLs are signed per request (no window)', async () => {
    await storage.putObject(KEY, playlist('segment00000.ts'), {
      contentType: 'application/vnd.apple.mpegurl',
    });
    const kept = playlists({ windowSeconds: 0 });
    await kept.get(KEY, 'run-1');
    await kept.get(KEY, 'run-1');
    expect(reads).toEqual([KEY, KEY]);
  });
});
