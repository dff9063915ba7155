import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { directLauncher } from '../../src/media/process-launcher.js';
import { buildHlsArgs, StreamAction } from '../../src/media/ffmpeg-args.js';
import { HLS_PLAYLIST_NAME } from '../../src/media/hls-layout.js';
import { parseHlsPlaylist, playlistDuration } from '../../src/media/hls-playlist.js';
import { choosePlan } from '../../src/media/choose-plan.js';
import { readMp4Tracks, type Mp4Track } from '../../src/media/mp4-tracks.js';
import {
  copyPlanFromIndex,
  matchesOptimisticPlan,
  OPTIMISTIC_PLAN,
  samePlan,
  startOptimisticCopy,
  worthOptimisticCopy,
} from '../../src/media/optimistic-copy.js';
import { probeMedia } from '../../src/media/probe-media.js';
import { startFfmpeg } from '../../src/media/run-ffmpeg.js';
import { FFMPEG_PATH, FFPROBE_PATH, makeTestMedia, runTestFfmpeg } from '../helpers/media.js';

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
        launcher: directLauncher,
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

describe('copyPlanFromIndex', () => {
  const video = (overrides: Partial<Mp4Track> = {}, h264: Partial<NonNullable<Mp4Track['h264']>> = {}) =>
    ({
      index: 0,
      handler: 'vide',
      sampleEntry: 'avc1',
      sampleEntryCount: 1,
      rotated: false,
      h264: { profileIdc: 100, chromaFormatIdc: 1, bitDepthLuma: 8, bitDepthChroma: 8, ...h264 },
      width: 1280,
      height: 720,
      levelIdc: 31,
      movieDurationSeconds: 60,
      ...overrides,
    }) satisfies Mp4Track;
  const audio = (overrides: Partial<Mp4Track> = {}, aac: Partial<NonNullable<Mp4Track['aac']>> = {}) =>
    ({
      index: 1,
      handler: 'soun',
      sampleEntry: 'mp4a',
      sampleEntryCount: 1,
      rotated: false,
      channelCount: 2,
      aac: { objectTypeIndication: 0x40, audioObjectType: 2, channelConfiguration: 2, ...aac },
      movieDurationSeconds: 60,
      ...overrides,
    }) satisfies Mp4Track;

  const confirms = (tracks: Mp4Track[]) => {
    const plan = copyPlanFromIndex(tracks);
    return plan !== undefined && matchesOptimisticPlan(plan);
  };

  it('vouches for upright 8-bit 4:2:0 H.264 then AAC (LC or HE) mono or stereo: the optimistic plan', () => {
    expect(confirms([video(), audio()])).toBe(true);
    expect(confirms([video({}, { profileIdc: 66 }), audio({}, { channelConfiguration: 1 })])).toBe(true);
    expect(confirms([video({ sampleEntry: 'avc3' }), audio({}, { audioObjectType: 5 })])).toBe(true);
    // A timecode or chapter track after them changes nothing ffmpeg maps.
    expect(confirms([video(), audio(), { ...audio(), index: 2, handler: 'tmcd' }])).toBe(true);
  });

  it('vouches for the same tracks audio first, and for one of them alone, with their stream indexes', () => {
    expect(copyPlanFromIndex([audio({ index: 0 }), video({ index: 1 })])).toEqual({
      video: 'copy',
      audio: 'copy',
      videoStreamIndex: 1,
      audioStreamIndex: 0,
      mode: 'copy',
    });
    expect(copyPlanFromIndex([video()])).toEqual({
      video: 'copy',
      audio: 'none',
      videoStreamIndex: 0,
      mode: 'copy',
    });
    expect(copyPlanFromIndex([audio({ index: 0 }), { ...video({ index: 1 }), handler: 'text' }])).toEqual({
      video: 'none',
      audio: 'copy',
      audioStreamIndex: 0,
      mode: 'copy',
    });
  });

  it('leaves everything else to the probe', () => {
    const no = (tracks: Mp4Track[] | undefined) => expect(copyPlanFromIndex(tracks)).toBeUndefined();
    no(undefined);
    no([]);
    // Only other kinds of tracks, or one before the media tracks: which stream is which is not certain.
    no([{ ...video(), handler: 'tmcd' }]);
    no([{ ...video({ index: 0 }), handler: 'tmcd' }, video({ index: 1 }), audio({ index: 2 })]);
    no([video({ rotated: true }), audio()]);
    no([video({ sampleEntry: 'hvc1', h264: undefined }), audio()]);
    no([video({}, { profileIdc: 110, bitDepthLuma: 10, bitDepthChroma: 10 }), audio()]);
    no([video({}, { profileIdc: 244, chromaFormatIdc: 3 }), audio()]);
    no([video({}, { chromaFormatIdc: 0 }), audio()]);
    no([video({ h264: undefined }), audio()]);
    no([video({ sampleEntryCount: 2 }), audio()]);
    no([video(), audio({}, { channelConfiguration: 6 })]);
    no([video(), audio({}, { channelConfiguration: 0 })]);
    no([video(), audio({}, { objectTypeIndication: 0x6b })]);
    no([video(), audio({ sampleEntry: 'Opus', aac: undefined })]);
    // A second audio or video track could be the default one the probe picks.
    no([video(), audio(), audio({ index: 2 })]);
    no([video(), audio(), video({ index: 2 })]);
  });

  it('agrees with the probe on real files, or leaves them to it', async () => {
    const remap = async (name: string, ...maps: string[]) => {
      const file = join(root, `${name}.mp4`);
      await runTestFfmpeg(['-i', source, ...maps, '-c', 'copy', file]);
      return file;
    };
    const files: Array<[string, string, boolean]> = [
      ['h264-aac-faststart', await makeTestMedia(root, 'h264-aac-faststart', { seconds: 2 }), true],
      ['h264-aac-moov-end', await makeTestMedia(root, 'h264-aac-moov-end', { seconds: 2 }), true],
      ['audio first', await remap('audio-first', '-map', '0:a', '-map', '0:v'), true],
      ['video only', await remap('video-only', '-map', '0:v'), true],
      ['audio-only-m4a', await makeTestMedia(root, 'audio-only-m4a', { seconds: 2 }), true],
      ['two audio tracks', await remap('two-audio', '-map', '0:v', '-map', '0:a', '-map', '0:a'), false],
      ['h264-aac-rotated', await makeTestMedia(root, 'h264-aac-rotated', { seconds: 2 }), false],
      ['hevc-mp4', await makeTestMedia(root, 'hevc-mp4', { seconds: 2 }), false],
      ['vp9-opus-webm', await makeTestMedia(root, 'vp9-opus-webm', { seconds: 2 }), false],
    ];
    for (const [name, file, vouched] of files) {
      const plan = copyPlanFromIndex(await readMp4Tracks(file));
      const probedPlan = choosePlan(
        await probeMedia(file, { ffprobePath: FFPROBE_PATH, timeoutMs: 30_000, launcher: directLauncher }),
      );
      expect(plan !== undefined, name).toBe(vouched);
      if (plan) expect(samePlan(plan, probedPlan), name).toBe(true);
    }
  });
});
