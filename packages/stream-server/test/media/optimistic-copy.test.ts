import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildHlsArgs, HLS_PLAYLIST_NAME, StreamAction } from '../../src/media/ffmpeg-args.js';
import { parseHlsPlaylist, playlistDuration } from '../../src/media/hls-playlist.js';
import {
  matchesOptimisticPlan,
  OPTIMISTIC_PLAN,
  startOptimisticCopy,
  worthOptimisticCopy,
} from '../../src/media/optimistic-copy.js';
import { startFfmpeg } from '../../src/media/run-ffmpeg.js';
import { FFMPEG_PATH, makeTestMedia } from '../helpers/media.js';

let root: string;
let source: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'optimistic-copy-'));
  source = await makeTestMedia(root, 'h264-aac-faststart', { seconds: 30 });
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function start(tempRoot: string) {
  const controller = new AbortController();
  const copy = startOptimisticCopy({
    tempRoot,
    signal: controller.signal,
    playlistName: HLS_PLAYLIST_NAME,
    start: (plan, outputDir, signal) =>
      startFfmpeg({
        bin: FFMPEG_PATH,
        args: buildHlsArgs({ input: source, outputDir, plan, segmentSeconds: 1 }),
        timeoutMs: 60_000,
        signal,
      }),
  });
  return { copy, controller };
}

describe('optimistic copy', () => {
  it('is tried for MP4-family and undeclared sources only', () => {
    expect(worthOptimisticCopy(undefined)).toBe(true);
    expect(worthOptimisticCopy('video/mp4')).toBe(true);
    expect(worthOptimisticCopy('video/quicktime')).toBe(true);
    expect(worthOptimisticCopy('application/octet-stream')).toBe(true);
    expect(worthOptimisticCopy('video/webm')).toBe(false);
    expect(worthOptimisticCopy('video/x-matroska')).toBe(false);
  });

  it('counts only the exact plan it started with as a match', () => {
    expect(matchesOptimisticPlan({ ...OPTIMISTIC_PLAN })).toBe(true);
    expect(matchesOptimisticPlan({ ...OPTIMISTIC_PLAN, audioStreamIndex: 2 })).toBe(false);
    expect(
      matchesOptimisticPlan({ ...OPTIMISTIC_PLAN, audio: StreamAction.Transcode, mode: 'transcode' }),
    ).toBe(false);
    expect(
      matchesOptimisticPlan({ ...OPTIMISTIC_PLAN, audio: StreamAction.None, audioStreamIndex: undefined }),
    ).toBe(false);
  });

  it('waits after its first segment until adopted, so temp space stays small, then runs to the end', async () => {
    const tempRoot = await mkdtemp(join(root, 'adopt-'));
    const { copy } = start(tempRoot);
    const { dir } = await copy;
    await sleep(1_500); // a 30-second copy takes well under that when it is not held
    const held = (await readdir(dir)).filter((name) => name.endsWith('.ts'));
    expect(held.length).toBeGreaterThanOrEqual(1);
    expect(held.length).toBeLessThanOrEqual(3);

    const adopted = await (await copy).adopt({ ...OPTIMISTIC_PLAN });
    expect(adopted?.dir).toBe(dir);
    await adopted?.process.result;
    const playlist = parseHlsPlaylist(await readFile(join(dir, HLS_PLAYLIST_NAME), 'utf8'));
    expect(playlist.ended).toBe(true);
    expect(playlistDuration(playlist.segments)).toBeCloseTo(30, 0);
  });

  it('stops and removes its folder when the plan differs', async () => {
    const tempRoot = await mkdtemp(join(root, 'discard-'));
    const copy = await start(tempRoot).copy;
    const adopted = await copy.adopt({
      ...OPTIMISTIC_PLAN,
      video: StreamAction.Transcode,
      mode: 'transcode',
    });
    expect(adopted).toBeUndefined();
    await expect(stat(copy.dir)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('stops with the job', async () => {
    const tempRoot = await mkdtemp(join(root, 'abort-'));
    const { copy: pending, controller } = start(tempRoot);
    const copy = await pending;
    controller.abort();
    await copy.discard();
    await expect(stat(copy.dir)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
