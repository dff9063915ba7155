import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { directLauncher } from '../../src/media/process-launcher.js';
import { MediaMessage } from '../../src/media/ffmpeg-failure.js';
import { generateHls, type GenerateHlsResult } from '../../src/media/generate-hls.js';
import {
  generateRendition,
  type GenerateRenditionOptions,
  type GenerateRenditionResult,
} from '../../src/media/generate-rendition.js';
import { parseHlsPlaylist } from '../../src/media/hls-playlist.js';
import { probeMedia, type ProbeResult } from '../../src/media/probe-media.js';
import {
  alignmentTolerance,
  buildRenditionArgs,
  defaultAudioBitrateKbps,
  defaultVideoBitrateKbps,
  renditionKeyframeTimes,
  renditionProfile,
  segmentMismatch,
} from '../../src/media/rendition-args.js';
import {
  DirectorySink,
  FFMPEG_PATH,
  FFPROBE_PATH,
  makeTestMedia,
  serveDirectory,
  type DirectorySinkOptions,
  type ServedDirectory,
  type TestMediaKind,
  failureOf,
} from '../helpers/media.js';

const run = promisify(execFile);
const HLS_PREFIX = 'videos/u1/v1_hls/';

// ---- pure parts ------------------------------------------------------------------------------------------------

describe('rendition defaults', () => {
  it('caps the video bit rate by height, linear between the table rows', () => {
    expect([1080, 720, 480, 360, 240].map(defaultVideoBitrateKbps)).toEqual([5000, 2800, 1200, 700, 400]);
    expect(defaultVideoBitrateKbps(600)).toBe(2133);
    expect(defaultVideoBitrateKbps(100)).toBe(200);
    expect(defaultVideoBitrateKbps(4320)).toBe(16000);
  });

  it('uses 128 kbit/s AAC, 96 at 360p and below; High from 720p, Main below', () => {
    expect([1080, 480, 360, 240].map(defaultAudioBitrateKbps)).toEqual([128, 128, 96, 96]);
    expect([1080, 720, 480, 360].map(renditionProfile)).toEqual(['high', 'high', 'main', 'main']);
  });
});

describe('renditionKeyframeTimes', () => {
  it('forces a keyframe a quarter frame before each boundary of the source rendition, none at the end', () => {
    expect(renditionKeyframeTimes([4, 4, 2], { fps: 25 })).toEqual([3.99, 7.99]);
    expect(renditionKeyframeTimes([6], { fps: 25 })).toEqual([]);
  });

  it('shifts the boundaries to where the video starts on the output clock', () => {
    const times = renditionKeyframeTimes([5.459, 6, 2], { fps: 25, videoStartSeconds: 0.541 });
    expect(times[0]).toBeCloseTo(5.99, 6);
    expect(times[1]).toBeCloseTo(11.99, 6);
  });
});

describe('buildRenditionArgs', () => {
  const base = {
    input: 'https://bucket.example/v.mp4?X-Amz-Signature=abc',
    outputDir: '/tmp/job',
    videoStreamIndex: 0,
    audioStreamIndex: 1,
    height: 361,
    keyframeTimes: [3.99, 7.99],
    videoBitrateKbps: 700,
    audioBitrateKbps: 96,
    profile: 'main' as const,
  };
  const valueOf = (args: string[], flag: string) => args[args.indexOf(flag) + 1];

  it('encodes H.264 under a bit-rate cap with keyframes only where asked, and AAC-LC stereo', () => {
    const args = buildRenditionArgs(base);
    expect(args.slice(args.indexOf('-i') - 6, args.indexOf('-i'))).toEqual([
      '-rw_timeout',
      '30000000',
      '-reconnect',
      '1',
      '-reconnect_delay_max',
      '5',
    ]);
    expect(args.join(' ')).toContain('-map 0:0 -map 0:1');
    expect(valueOf(args, '-c:v')).toBe('libx264');
    expect(valueOf(args, '-preset')).toBe('veryfast');
    expect(valueOf(args, '-profile:v')).toBe('main');
    expect(valueOf(args, '-pix_fmt')).toBe('yuv420p');
    expect(valueOf(args, '-maxrate')).toBe('700k');
    expect(valueOf(args, '-bufsize')).toBe('1400k');
    expect(valueOf(args, '-vf')).toBe('scale=w=2*round(oh*dar/2):h=362,setsar=1');
    expect(valueOf(args, '-force_key_frames')).toBe('3.9900,7.9900');
    expect(valueOf(args, '-sc_threshold')).toBe('0');
    expect(valueOf(args, '-enc_time_base:v')).toBe('-1');
    expect(valueOf(args, '-c:a')).toBe('aac');
    expect(valueOf(args, '-b:a')).toBe('96k');
    expect(valueOf(args, '-ac')).toBe('2');
    expect(valueOf(args, '-hls_playlist_type')).toBe('vod');
    expect(valueOf(args, '-hls_segment_filename')).toBe('/tmp/job/segment%d.ts');
    expect(args.at(-1)).toBe('/tmp/job/playlist.m3u8');
  });

  it('leaves audio out when the source has none, and refuses a keyframe list too long for one argument', () => {
    const args = buildRenditionArgs({ ...base, audioStreamIndex: undefined, input: '/data/v.mp4' });
    expect(args).toContain('-an');
    expect(args).not.toContain('-reconnect');
    expect(args.filter((arg) => arg === '-map')).toHaveLength(1);
    const many = Array.from({ length: 20_000 }, (_, i) => i * 2 + 1.99);
    expect(() => buildRenditionArgs({ ...base, keyframeTimes: many })).toThrow(TypeError);
  });
});

describe('segmentMismatch', () => {
  it('accepts durations within the tolerance and says where they differ otherwise', () => {
    expect(segmentMismatch([4, 4, 2], [4.04, 3.96, 2], 0.1)).toBeNull();
    expect(segmentMismatch([4, 4, 2], [4, 6], 0.1)).toBe(
      'it has 2 segments where the source rendition has 3',
    );
    expect(segmentMismatch([4, 4, 2], [4, 3.8, 2.2], 0.1)).toBe(
      "segment 1 lasts 3.800 s where the source rendition's lasts 4.000 s",
    );
  });

  it('allows 0.1 s, or one frame when frames are longer', () => {
    expect(alignmentTolerance(25)).toBe(0.1);
    expect(alignmentTolerance(5)).toBeCloseTo(0.201, 6);
    expect(alignmentTolerance(undefined)).toBe(0.1);
  });
});

// ---- with ffmpeg -----------------------------------------------------------------------------------------------

let mediaDir: string;
let workRoot: string;
let server: ServedDirectory;

beforeAll(async () => {
  mediaDir = await mkdtemp(join(tmpdir(), 'rendition-media-'));
  workRoot = await mkdtemp(join(tmpdir(), 'rendition-work-'));
  server = await serveDirectory(mediaDir);
});
afterAll(async () => {
  await server.close();
  await rm(mediaDir, { recursive: true, force: true });
  await rm(workRoot, { recursive: true, force: true });
});

interface Case {
  sink: DirectorySink;
  tempRoot: string;
}

async function setUp(sinkOptions: DirectorySinkOptions = {}): Promise<Case> {
  const base = await mkdtemp(join(workRoot, 'case-'));
  return { sink: new DirectorySink(join(base, 'bucket'), sinkOptions), tempRoot: join(base, 'tmp') };
}

async function urlOf(kind: TestMediaKind, seconds: number): Promise<string> {
  return server.url(basename(await makeTestMedia(mediaDir, kind, { seconds })));
}

async function ffprobeJson(path: string): Promise<{
  format: { duration: string };
  streams: { codec_name: string; codec_type: string; profile?: string; level?: number; height?: number }[];
}> {
  const { stdout } = await run(FFPROBE_PATH, [
    '-v',
    'error',
    '-show_entries',
    'format=duration:stream=codec_name,codec_type,profile,level,width,height',
    '-of',
    'json',
    path,
  ]);
  return JSON.parse(stdout);
}

/** The codecs string a player expects from what ffprobe reports (constraint bytes as x264 writes them). */
function expectedCodecs(probe: Awaited<ReturnType<typeof ffprobeJson>>): string {
  const profileBytes: Record<string, string> = { High: '6400', Main: '4d40', 'Constrained Baseline': '42c0' };
  const video = probe.streams.find((stream) => stream.codec_type === 'video');
  const audio = probe.streams.find((stream) => stream.codec_type === 'audio');
  const level = (video?.level ?? 0).toString(16).padStart(2, '0');
  expect(audio).toMatchObject({ codec_name: 'aac', profile: 'LC' });
  return `avc1.${profileBytes[video?.profile ?? ''] ?? '?'}${level},mp4a.40.2`;
}

async function sourceRendition(c: Case, url: string, segmentSeconds: number) {
  const result = await generateHls({
    sourceUrl: url,
    outputPrefix: HLS_PREFIX,
    sink: c.sink,
    tempRoot: c.tempRoot,
    ffmpegPath: FFMPEG_PATH,
    ffprobePath: FFPROBE_PATH,
    launcher: directLauncher,
    segmentSeconds,
  });
  const playlist = parseHlsPlaylist(await c.sink.readText(result.playlistKey));
  return { result, durations: playlist.segments.map((segment) => segment.durationSeconds) };
}

function rungOptions(
  c: Case,
  url: string,
  height: number,
  source: { result: GenerateHlsResult; durations: number[] },
  extra: Partial<GenerateRenditionOptions> = {},
): GenerateRenditionOptions {
  return {
    sourceUrl: url,
    outputPrefix: `${HLS_PREFIX}${height}p/`,
    height,
    segmentDurations: source.durations,
    source: source.result.probe,
    sink: c.sink,
    tempRoot: c.tempRoot,
    ffmpegPath: FFMPEG_PATH,
    ffprobePath: FFPROBE_PATH,
    launcher: directLauncher,
    ...extra,
  };
}

/** Checks one stored rung against the source rendition's segments, by reading it back as a player would. */
async function expectAlignedRung(
  c: Case,
  rung: GenerateRenditionResult,
  height: number,
  durations: number[],
): Promise<void> {
  const prefix = `${HLS_PREFIX}${height}p/`;
  expect(rung.playlistKey).toBe(`${prefix}playlist.m3u8`);
  const keys = (await c.sink.keys()).filter((key) => key.startsWith(prefix));
  const segmentNames = durations.map((_, i) => `segment${i}.ts`);
  expect(keys).toEqual([...segmentNames.map((name) => prefix + name), rung.playlistKey].sort());
  // The playlist is stored last, after every segment of this rung.
  const rungCalls = c.sink.calls.filter((call) => call.key.startsWith(prefix));
  expect(rungCalls.at(-1)).toEqual({
    op: 'putObject',
    key: rung.playlistKey,
    contentType: 'application/vnd.apple.mpegurl',
  });
  expect(rungCalls.slice(0, -1).every((call) => call.op === 'putFile')).toBe(true);

  const text = await c.sink.readText(rung.playlistKey);
  expect(text).toContain('#EXT-X-PLAYLIST-TYPE:VOD');
  expect(text.trimEnd().endsWith('#EXT-X-ENDLIST')).toBe(true);
  const { segments } = parseHlsPlaylist(text);
  expect(segments.map((segment) => segment.uri)).toEqual(segmentNames);
  expect(rung.segmentCount).toBe(durations.length);
  // Exactly the source rendition's boundaries (the check in generateRendition allows 0.1 s; a frame is 40 ms).
  segments.forEach((segment, i) =>
    expect(Math.abs(segment.durationSeconds - (durations[i] ?? 0))).toBeLessThan(0.005),
  );

  // It plays: ffprobe reads the playlist, and ffmpeg decodes every frame of it without an error.
  const playlistPath = join(c.sink.root, rung.playlistKey);
  const probed = await ffprobeJson(playlistPath);
  expect(probed.streams.find((stream) => stream.codec_type === 'video')).toMatchObject({
    codec_name: 'h264',
    height,
  });
  expect(probed.streams.find((stream) => stream.codec_type === 'audio')?.codec_name).toBe('aac');
  const total = durations.reduce((sum, duration) => sum + duration, 0);
  expect(Math.abs(Number(probed.format.duration) - total)).toBeLessThan(0.2);
  expect(Math.abs(rung.durationSeconds - total)).toBeLessThan(0.05);
  const decoded = await run(FFMPEG_PATH, ['-v', 'error', '-xerror', '-i', playlistPath, '-f', 'null', '-']);
  expect(decoded.stderr).toBe('');

  // What the result says matches what ffprobe finds in the stored first segment.
  expect(rung.codecs).toBe(expectedCodecs(await ffprobeJson(join(c.sink.root, prefix, 'segment0.ts'))));
  expect(rung.height).toBe(height);
  expect(rung.bandwidth).toBeGreaterThan(0);
  expect(rung.bandwidth).toBeGreaterThanOrEqual(rung.averageBandwidth);
  expect(rung.averageBandwidth).toBeGreaterThan(0);
  expect(await readdir(c.tempRoot).catch(() => [])).toEqual([]);
}

describe('generateRendition: a ladder below a 1080p source', () => {
  it('makes 720p and 360p rungs with the source rendition’s segments, measured and described', async () => {
    const c = await setUp();
    const url = await urlOf('h264-aac-1080p', 10);
    const source = await sourceRendition(c, url, 4);

    // The source rendition is a copy: its keyframes every 2 s give segments of 4, 4 and 2 s.
    expect(source.result.mode).toBe('copy');
    expect(source.durations.map(Math.round)).toEqual([4, 4, 2]);
    expect(source.result).toMatchObject({ width: 1920, height: 1080, frameRate: 25 });
    expect(source.result.codecs).toBe(
      expectedCodecs(await ffprobeJson(join(c.sink.root, HLS_PREFIX, 'segment0.ts'))),
    );
    expect(source.result.bandwidth).toBeGreaterThanOrEqual(source.result.averageBandwidth);
    expect(source.result.averageBandwidth).toBeGreaterThan(0);

    const progress: number[] = [];
    const r720 = await generateRendition(
      rungOptions(c, url, 720, source, { onProgress: ({ fraction }) => void progress.push(fraction) }),
    );
    expect(r720).toMatchObject({ width: 1280, height: 720, frameRate: 25 });
    expect(r720.codecs).toMatch(/^avc1\.6400[0-9a-f]{2},mp4a\.40\.2$/);
    await expectAlignedRung(c, r720, 720, source.durations);
    expect(progress.at(-1)).toBe(1);

    const r360 = await generateRendition(rungOptions(c, url, 360, source));
    expect(r360).toMatchObject({ width: 640, height: 360, frameRate: 25 });
    expect(r360.codecs).toMatch(/^avc1\.4d40[0-9a-f]{2},mp4a\.40\.2$/);
    await expectAlignedRung(c, r360, 360, source.durations);

    // Measured, so lower rungs need less, and the rung is capped near its target (2 800 kbit/s + 128 audio).
    expect(r360.bandwidth).toBeLessThan(r720.bandwidth);
    expect(r360.averageBandwidth).toBeLessThan(r720.averageBandwidth);
    expect(r720.averageBandwidth).toBeLessThan(source.result.averageBandwidth);
    expect(r720.averageBandwidth).toBeLessThan(3_500_000);
  });
});

describe('generateRendition: below a transcoded source rendition', () => {
  it('lines up with segments cut by forced keyframes (VP9/Opus source)', async () => {
    const c = await setUp();
    const url = await urlOf('vp9-opus-webm', 8);
    const source = await sourceRendition(c, url, 3);
    expect(source.result.mode).toBe('transcode');
    // A transcode starts with a short first segment (2 s), then cuts every 3 s.
    expect(source.durations.map(Math.round)).toEqual([2, 3, 3]);
    // The source rendition's codecs come from what x264 wrote, read back from its first segment.
    expect(source.result.codecs).toBe(
      expectedCodecs(await ffprobeJson(join(c.sink.root, HLS_PREFIX, 'segment0.ts'))),
    );
    expect(source.result).toMatchObject({ width: 320, height: 240, frameRate: 25 });

    const rung = await generateRendition(rungOptions(c, url, 144, source));
    expect(rung).toMatchObject({ width: 192, height: 144 });
    await expectAlignedRung(c, rung, 144, source.durations);
    expect(rung.averageBandwidth).toBeLessThan(source.result.averageBandwidth);
  });
});

describe('generateRendition: a video that starts after its audio', () => {
  it('measures boundaries from the first video frame, as the source rendition does', async () => {
    // Matroska keeps the offset: audio from 0 s, video from about 0.54 s.
    const file = join(mediaDir, 'late-video.mkv');
    await run(FFMPEG_PATH, [
      ...['-hide_banner', '-loglevel', 'error', '-y', '-itsoffset', '0.5'],
      ...['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25:duration=8'],
      ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000:duration=8.5'],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-g', '50', '-pix_fmt', 'yuv420p'],
      ...['-c:a', 'aac', '-ac', '2', file],
    ]);
    const c = await setUp();
    const url = server.url(basename(file));
    const source = await sourceRendition(c, url, 4);
    expect(source.result.probe.video?.startSeconds).toBeGreaterThan(0.4);
    expect(source.result.probe.startSeconds).toBeLessThan(0.1);
    expect(source.durations.map(Math.round)).toEqual([4, 4]);

    const rung = await generateRendition(rungOptions(c, url, 144, source));
    await expectAlignedRung(c, rung, 144, source.durations);
  });
});

describe('generateRendition: failures store nothing', () => {
  let probe: ProbeResult;
  let url: string;

  beforeAll(async () => {
    url = await urlOf('h264-aac-faststart', 8);
    probe = await probeMedia(url, { ffprobePath: FFPROBE_PATH, timeoutMs: 30_000, launcher: directLauncher });
  });

  async function failedCase(sinkOptions: DirectorySinkOptions = {}) {
    const c = await setUp(sinkOptions);
    // The source rendition stands beside the rung: only the rung's own prefix may be deleted.
    await c.sink.putObject(`${HLS_PREFIX}playlist.m3u8`, '#EXTM3U\n');
    const options = (extra: Partial<GenerateRenditionOptions> = {}): GenerateRenditionOptions => ({
      sourceUrl: url,
      outputPrefix: `${HLS_PREFIX}144p/`,
      height: 144,
      segmentDurations: [4, 4],
      source: probe,
      sink: c.sink,
      tempRoot: c.tempRoot,
      ffmpegPath: FFMPEG_PATH,
      ffprobePath: FFPROBE_PATH,
      launcher: directLauncher,
      ...extra,
    });
    const expectNothingStored = async () => {
      expect(c.sink.calls.at(-1)).toEqual({ op: 'deletePrefix', key: `${HLS_PREFIX}144p/` });
      expect(await c.sink.keys()).toEqual([`${HLS_PREFIX}playlist.m3u8`]);
      expect(await readdir(c.tempRoot).catch(() => [])).toEqual([]);
    };
    return { options, expectNothingStored };
  }

  it('fails a missing source as not found', async () => {
    const { options, expectNothingStored } = await failedCase();
    const error = await failureOf(generateRendition(options({ sourceUrl: server.url('gone.mp4') })));
    expect(error).toMatchObject({
      code: 'invalid_input',
      permanent: true,
      message: MediaMessage.SourceNotFound,
    });
    await expectNothingStored();
  });

  it('refuses a rung that does not line up with the source rendition, before storing any of it', async () => {
    const { options, expectNothingStored } = await failedCase();
    const error = await failureOf(generateRendition(options({ segmentDurations: [4, 4, 4] })));
    expect(error).toMatchObject({ code: 'incomplete', permanent: true });
    expect(error.message).toBe(
      'The 144p rendition does not line up with the source rendition: it has 2 segments where the source rendition has 3.',
    );
    await expectNothingStored();
  });

  it('stops when aborted during the uploads and deletes what was stored', async () => {
    const controller = new AbortController();
    const { options, expectNothingStored } = await failedCase({
      beforePutFile: async () => controller.abort(),
    });
    const error = await failureOf(
      generateRendition(options({ signal: controller.signal, uploadConcurrency: 1 })),
    );
    expect(error).toMatchObject({ code: 'aborted', permanent: false });
    await expectNothingStored();
  });

  it('fails transiently at the wall-clock limit, killing ffmpeg', async () => {
    const { options, expectNothingStored } = await failedCase();
    const error = await failureOf(generateRendition(options({ timeoutMs: 1 })));
    expect(error).toMatchObject({ code: 'timeout', permanent: false });
    await expectNothingStored();
  });

  it('fails transiently when the bucket refuses a segment', async () => {
    const { options, expectNothingStored } = await failedCase({ failOnPutFile: 2 });
    const error = await failureOf(generateRendition(options({ uploadConcurrency: 1 })));
    expect(error).toMatchObject({ code: 'storage', permanent: false, message: MediaMessage.StoreFailed });
    await expectNothingStored();
  });

  it('refuses a source without a picture', async () => {
    const { options, expectNothingStored } = await failedCase();
    const error = await failureOf(generateRendition(options({ source: { ...probe, video: undefined } })));
    expect(error).toMatchObject({ code: 'unsupported', permanent: true });
    await expectNothingStored();
  });
});
