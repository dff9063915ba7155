import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildHlsPlaylist, type HlsSegment } from '../../../src/media/hls-playlist.js';
import { watchSegments, type SegmentWatcher } from '../../../src/media/hls/segment-watcher.js';
import { waitFor } from '../../helpers/processes.js';

const dirs: string[] = [];
const watchers: SegmentWatcher[] = [];
afterEach(async () => {
  for (const watcher of watchers.splice(0)) watcher.stop();
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

const segment = (index: number, durationSeconds = 2): HlsSegment => ({
  uri: `segment${index}.ts`,
  durationSeconds,
});

/** Writes the playlist as ffmpeg does: to a temp file, renamed into place. */
async function writePlaylist(dir: string, segments: HlsSegment[]): Promise<void> {
  const temp = join(dir, 'playlist.m3u8.tmp');
  await writeFile(temp, buildHlsPlaylist({ type: 'event', segments, minTargetDurationSeconds: 2 }));
  await rename(temp, join(dir, 'playlist.m3u8'));
}

async function start(onError: (error: unknown) => void = () => {}) {
  const dir = await mkdtemp(join(tmpdir(), 'segment-watcher-'));
  dirs.push(dir);
  const listed: Array<{ uris: string[]; firstIndex: number }> = [];
  const watcher = watchSegments({
    dir,
    signal: new AbortController().signal,
    onListed: (segments, firstIndex) => listed.push({ uris: segments.map((s) => s.uri), firstIndex }),
    onError,
    pollMs: 20,
  });
  watchers.push(watcher);
  return { dir, listed, watcher };
}

describe('watchSegments (the watch-segments step)', () => {
  it('reports each listed segment once, in order, as the playlist grows', async () => {
    const { dir, listed, watcher } = await start();
    await writePlaylist(dir, [segment(0)]);
    await waitFor('the first segment', async () => (listed.length === 1 ? true : undefined));
    await writePlaylist(dir, [segment(0), segment(1), segment(2)]);
    await waitFor('the next two', async () => (watcher.segments.length === 3 ? true : undefined));
    await writePlaylist(dir, [segment(0), segment(1), segment(2)]); // rewritten unchanged: nothing new
    await writePlaylist(dir, [segment(0), segment(1), segment(2), segment(3, 1.5)]);
    await watcher.finish();

    expect(listed.flatMap((batch) => batch.uris)).toEqual([
      'segment0.ts',
      'segment1.ts',
      'segment2.ts',
      'segment3.ts',
    ]);
    expect(listed[0]).toEqual({ uris: ['segment0.ts'], firstIndex: 0 });
    expect(listed.at(-1)?.firstIndex).toBe(3);
    expect(watcher.segments.at(-1)).toEqual(segment(3, 1.5));
  });

  it('waits quietly while there is no playlist yet', async () => {
    const { listed, watcher } = await start();
    await watcher.finish();
    expect(listed).toEqual([]);
    expect(watcher.segments).toEqual([]);
  });

  it('fails on a segment that is not the next position', async () => {
    const errors: unknown[] = [];
    const { dir, listed } = await start((error) => errors.push(error));
    await writePlaylist(dir, [segment(0), segment(2)]);
    await waitFor('the failure', async () => (errors.length > 0 ? true : undefined));
    expect(String((errors[0] as Error).cause)).toMatch(/unexpected segment "segment2.ts" at position 1/);
    expect(listed).toEqual([]);
  });
});
