import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { directLauncher } from '../../src/media/process-launcher.js';
import { MediaMessage } from '../../src/media/ffmpeg-failure.js';
import {
  generateHls,
  type GenerateHlsOptions,
  type GenerateHlsProgress,
  type GenerateHlsResult,
  type SegmentStored,
} from '../../src/media/generate-hls.js';
import { parseHlsPlaylist } from '../../src/media/hls-playlist.js';
import {
  DirectorySink,
  failureOf,
  FFMPEG_PATH,
  FFPROBE_PATH,
  makeTestMedia,
  runTestFfmpeg,
  serveDirectory,
  type DirectorySinkOptions,
  type ServedDirectory,
  type TestMediaKind,
} from '../helpers/media.js';
import { writeFfprobeReportingHevc, writeSlowFfprobe } from '../helpers/processes.js';

const PREFIX = 'videos/u1/v1_hls/';

let mediaDir: string;
let workRoot: string;
let server: ServedDirectory;

beforeAll(async () => {
  mediaDir = await mkdtemp(join(tmpdir(), 'hls-media-'));
  workRoot = await mkdtemp(join(tmpdir(), 'hls-work-'));
  server = await serveDirectory(mediaDir);
});
afterAll(async () => {
  await server.close();
  await rm(mediaDir, { recursive: true, force: true });
  await rm(workRoot, { recursive: true, force: true });
});

interface Run {
  sink: DirectorySink;
  tempRoot: string;
  stored: SegmentStored[];
  progress: GenerateHlsProgress[];
}

async function setUp(sinkOptions: DirectorySinkOptions = {}): Promise<Run> {
  const base = await mkdtemp(join(workRoot, 'case-'));
  return {
    sink: new DirectorySink(join(base, 'bucket'), sinkOptions),
    tempRoot: join(base, 'tmp'),
    stored: [],
    progress: [],
  };
}

function optionsFor(
  run: Run,
  sourceUrl: string,
  extra: Partial<GenerateHlsOptions> = {},
): GenerateHlsOptions {
  return {
    sourceUrl,
    outputPrefix: PREFIX,
    sink: run.sink,
    tempRoot: run.tempRoot,
    ffmpegPath: FFMPEG_PATH,
    ffprobePath: FFPROBE_PATH,
    launcher: directLauncher,
    onSegmentStored: (segment) => void run.stored.push(segment),
    onProgress: (progress) => void run.progress.push(progress),
    ...extra,
  };
}

async function urlOf(kind: TestMediaKind, seconds: number): Promise<string> {
  return server.url(basename(await makeTestMedia(mediaDir, kind, { seconds })));
}

/** What is left in the temp root after a run (the per-job directory must be gone). */
async function tempLeftovers(run: Run): Promise<string[]> {
  return readdir(run.tempRoot).catch(() => []);
}

/** Checks a successful run end to end: objects, order of calls, playlist, progressive notifications. */
async function expectPublished(run: Run, result: GenerateHlsResult): Promise<void> {
  const keys = await run.sink.keys();
  const segmentKeys = Array.from({ length: result.segmentCount }, (_, i) => `${PREFIX}segment${i}.ts`);
  expect(keys).toEqual([...segmentKeys, `${PREFIX}playlist.m3u8`].sort());
  expect(result.playlistKey).toBe(`${PREFIX}playlist.m3u8`);

  // Every segment is uploaded before the playlist, which is stored last and once.
  const last = run.sink.calls.at(-1);
  expect(last).toEqual({
    op: 'putObject',
    key: result.playlistKey,
    contentType: 'application/vnd.apple.mpegurl',
  });
  expect(run.sink.calls.filter((call) => call.op === 'putObject')).toHaveLength(1);
  for (const call of run.sink.calls.slice(0, -1))
    expect(call).toMatchObject({ op: 'putFile', contentType: 'video/mp2t' });

  const text = await run.sink.readText(result.playlistKey);
  expect(text).toContain('#EXT-X-PLAYLIST-TYPE:VOD');
  expect(text.trimEnd().endsWith('#EXT-X-ENDLIST')).toBe(true);
  const { segments } = parseHlsPlaylist(text);
  expect(segments.map((segment) => segment.uri)).toEqual(segmentKeys.map((key) => key.slice(PREFIX.length)));
  expect(segments.reduce((sum, segment) => sum + segment.durationSeconds, 0)).toBeCloseTo(
    result.durationSeconds,
    3,
  );

  // Progressive publishing: in index order, each an EVENT playlist of what is stored so far.
  expect(run.stored.map((segment) => segment.index)).toEqual(segmentKeys.map((_, i) => i));
  for (const segment of run.stored) {
    const soFar = parseHlsPlaylist(segment.playlistSoFar);
    expect(soFar.ended).toBe(false);
    expect(soFar.segments).toHaveLength(segment.index + 1);
    expect(segment.playlistSoFar).toContain('#EXT-X-PLAYLIST-TYPE:EVENT');
    expect(segment.playlistSoFar).toContain('#EXT-X-START:TIME-OFFSET=0');
  }
  expect(run.progress.at(-1)?.fraction).toBe(1);
  expect(await tempLeftovers(run)).toEqual([]);
}

/** Checks a failed run: nothing published under the prefix, temp space cleaned. */
async function expectCleanedUp(run: Run): Promise<void> {
  expect(run.sink.calls.at(-1)).toEqual({ op: 'deletePrefix', key: PREFIX });
  expect(await run.sink.keys()).toEqual([]);
  expect(await tempLeftovers(run)).toEqual([]);
}

describe('generateHls: copy', () => {
  it('remuxes an H.264/AAC MP4 with the moov at the front into complete, verified HLS', async () => {
    const run = await setUp();
    const result = await generateHls(optionsFor(run, await urlOf('h264-aac-faststart', 8)));
    expect(result.mode).toBe('copy');
    expect(result.plan).toMatchObject({ video: 'copy', audio: 'copy' });
    expect(result.probedDurationSeconds).toBeCloseTo(8, 1);
    expect(Math.abs(result.durationSeconds - 8)).toBeLessThan(0.2);
    expect(result.segmentCount).toBe(2);
    await expectPublished(run, result);
  });

  it('remuxes an MP4 with the moov at the end, reading it with range requests', async () => {
    const run = await setUp();
    const url = await urlOf('h264-aac-moov-end', 8);
    const result = await generateHls(optionsFor(run, url));
    expect(result.mode).toBe('copy');
    expect(Math.abs(result.durationSeconds - 8)).toBeLessThan(0.2);
    await expectPublished(run, result);
    const name = new URL(url).pathname;
    expect(
      server.requests.some((line) => line.startsWith(`GET ${name} bytes=`) && !line.endsWith('bytes=0-')),
    ).toBe(true);
  });
});

/** A logger that keeps what generation says about the optimistic copy (decision 0010). */
function optimisticOutcomes(): { logger: GenerateHlsOptions['logger']; outcomes: unknown[] } {
  const outcomes: unknown[] = [];
  const keep = (obj: object) => {
    if ('optimisticCopy' in obj) outcomes.push(obj.optimisticCopy);
  };
  return { logger: { info: keep, warn: keep, error: keep }, outcomes };
}

describe('generateHls: optimistic copy while probing', () => {
  it('keeps the copy it started before the probe answered when the probe agrees', async () => {
    const run = await setUp();
    const { logger, outcomes } = optimisticOutcomes();
    const result = await generateHls(optionsFor(run, await urlOf('h264-aac-faststart', 8), { logger }));
    expect(outcomes).toEqual(['adopted']);
    expect(result.plan).toMatchObject({
      video: 'copy',
      audio: 'copy',
      videoStreamIndex: 0,
      audioStreamIndex: 1,
    });
    await expectPublished(run, result);
  });

  it('discards it for HEVC, which must be transcoded, and stores only the transcode', async () => {
    const run = await setUp();
    const { logger, outcomes } = optimisticOutcomes();
    const result = await generateHls(optionsFor(run, await urlOf('hevc-mp4', 4), { logger }));
    expect(outcomes).toEqual(['discarded']);
    expect(result.mode).toBe('transcode');
    expect(result.codecs).toMatch(/^avc1\./);
    await expectPublished(run, result);
  });

  it('discards it when stream 1 does not exist (audio only), without failing the video', async () => {
    const run = await setUp();
    const { logger, outcomes } = optimisticOutcomes();
    const result = await generateHls(optionsFor(run, await urlOf('audio-only-m4a', 4), { logger }));
    expect(outcomes).toEqual(['discarded']);
    expect(result.plan).toMatchObject({ video: 'none', audio: 'copy' });
    await expectPublished(run, result);
  });

  it('stops it and cleans up when the probe refuses the file', async () => {
    const run = await setUp();
    const error = await failureOf(generateHls(optionsFor(run, await urlOf('random-bytes', 4))));
    expect(error).toMatchObject({ code: 'invalid_input', permanent: true });
    expect(await tempLeftovers(run)).toEqual([]);
  });

  it('starts publishing before ffprobe answers when the MP4 index confirms the plan, ffprobe checking later', async () => {
    const run = await setUp();
    // An ffprobe that answers only after 2 s and leaves a mark when it does.
    const answered = join(run.tempRoot, '..', 'probe-answered');
    const slowProbe = await writeSlowFfprobe(join(run.tempRoot, '..'), answered, FFPROBE_PATH);
    const planFrom: unknown[] = [];
    const firstSegmentBeforeProbe: boolean[] = [];
    const result = await generateHls(
      optionsFor(run, await urlOf('h264-aac-faststart', 8), {
        ffprobePath: slowProbe,
        logger: {
          info: (obj) => void ('planFrom' in obj && planFrom.push(obj.planFrom)),
          warn() {},
          error() {},
        },
        onSegmentStored: async (segment) => {
          run.stored.push(segment);
          if (segment.index === 0) {
            firstSegmentBeforeProbe.push(
              !(await readFile(answered).then(
                () => true,
                () => false,
              )),
            );
          }
        },
      }),
    );
    expect(planFrom).toEqual(['mp4 index']);
    expect(firstSegmentBeforeProbe).toEqual([true]);
    // The probe still ran to the end and its answer is the one reported.
    expect(result.probedDurationSeconds).toBeCloseTo(8, 1);
    expect(result.probe.video?.codec).toBe('h264');
    await expectPublished(run, result);
  });

  it('starts the right copy at once, before ffprobe answers, when the index shows the audio track first', async () => {
    const run = await setUp();
    const answered = join(run.tempRoot, '..', 'probe-answered');
    const slowProbe = await writeSlowFfprobe(join(run.tempRoot, '..'), answered, FFPROBE_PATH);
    const audioFirst = join(mediaDir, 'audio-first-8s.mp4');
    await runTestFfmpeg([
      ...['-i', await makeTestMedia(mediaDir, 'h264-aac-faststart', { seconds: 8 })],
      ...['-map', '0:a', '-map', '0:v', '-c', 'copy', '-movflags', '+faststart', audioFirst],
    ]);
    const logged: object[] = [];
    let probeDoneAtFirstSegment: boolean | undefined;
    const result = await generateHls(
      optionsFor(run, server.url(basename(audioFirst)), {
        ffprobePath: slowProbe,
        logger: { info: (obj) => void logged.push(obj), warn() {}, error() {} },
        onSegmentStored: async (segment) => {
          run.stored.push(segment);
          if (segment.index === 0) probeDoneAtFirstSegment = existsSync(answered);
        },
      }),
    );
    expect(logged).toContainEqual(
      expect.objectContaining({ planFrom: 'mp4 index', optimisticCopy: 'discarded' }),
    );
    expect(probeDoneAtFirstSegment).toBe(false);
    expect(result.plan).toMatchObject({
      video: 'copy',
      audio: 'copy',
      videoStreamIndex: 1,
      audioStreamIndex: 0,
    });
    expect(result.probe.video?.codec).toBe('h264');
    await expectPublished(run, result);
  });

  it('fails (to be retried the careful way) and removes everything when ffprobe disagrees with the index', async () => {
    const run = await setUp();
    const lyingProbe = await writeFfprobeReportingHevc(join(run.tempRoot, '..'), FFPROBE_PATH);
    const error = await failureOf(
      generateHls(optionsFor(run, await urlOf('h264-aac-faststart', 8), { ffprobePath: lyingProbe })),
    );
    expect(error).toMatchObject({ code: 'ffmpeg_failed', permanent: false });
    expect(String((error.cause as Error).message)).toContain('disagree');
    expect(await run.sink.keys()).toEqual([]);
    expect(await tempLeftovers(run)).toEqual([]);
  });

  it('is not tried when turned off', async () => {
    const run = await setUp();
    const { logger, outcomes } = optimisticOutcomes();
    const result = await generateHls(
      optionsFor(run, await urlOf('h264-aac-faststart', 4), { logger, optimisticCopy: false }),
    );
    expect(outcomes).toEqual(['not tried']);
    await expectPublished(run, result);
  });
});

describe('generateHls: transcode', () => {
  it('transcodes VP9/Opus WebM with keyframes forced at a short first segment, then at the segment length', async () => {
    const run = await setUp();
    const result = await generateHls(optionsFor(run, await urlOf('vp9-opus-webm', 8)));
    expect(result.mode).toBe('transcode');
    expect(result.plan).toMatchObject({ video: 'transcode', audio: 'transcode', width: 320, height: 240 });
    expect(Math.abs(result.durationSeconds - 8)).toBeLessThan(0.3);
    // The source has one keyframe every 10 s (copying would make one 8 s segment); the output is cut after a short
    // first segment (2 s, so a first view waits for less encoding), then every 6 s.
    const { segments } = parseHlsPlaylist(await run.sink.readText(result.playlistKey));
    expect(segments.map((segment) => Math.round(segment.durationSeconds))).toEqual([2, 6]);
    await expectPublished(run, result);
  });

  it('handles live WebM without a duration, reporting the duration it produced', async () => {
    const run = await setUp();
    const result = await generateHls(optionsFor(run, await urlOf('vp9-opus-webm-live', 8)));
    expect(result.probedDurationSeconds).toBeNull();
    expect(Math.abs(result.durationSeconds - 8)).toBeLessThan(0.3);
    await expectPublished(run, result);
  });
});

describe('generateHls: rotated video', () => {
  it('transcodes a phone video stored sideways into upright HLS instead of copying it', async () => {
    const run = await setUp();
    const { logger, outcomes } = optimisticOutcomes();
    const result = await generateHls(optionsFor(run, await urlOf('h264-aac-rotated', 4), { logger }));
    expect(outcomes).toEqual(['discarded']);
    expect(result.probe.video?.rotation).toBe(90);
    expect(result.plan).toMatchObject({ video: 'transcode', audio: 'copy', width: 240, height: 320 });
    expect(result).toMatchObject({ width: 240, height: 320 });
    await expectPublished(run, result);
  });
});

describe('generateHls: audio only', () => {
  it('copies AAC from an M4A into audio-only HLS', async () => {
    const run = await setUp();
    const result = await generateHls(optionsFor(run, await urlOf('audio-only-m4a', 8)));
    expect(result.plan).toMatchObject({ video: 'none', audio: 'copy' });
    expect(result.mode).toBe('copy');
    expect(Math.abs(result.durationSeconds - 8)).toBeLessThan(0.3);
    await expectPublished(run, result);
  });

  it('transcodes an MP3 with cover art into audio-only AAC HLS', async () => {
    const run = await setUp();
    const result = await generateHls(optionsFor(run, await urlOf('audio-only-mp3', 8)));
    expect(result.plan).toMatchObject({ video: 'none', audio: 'transcode' });
    expect(Math.abs(result.durationSeconds - 8)).toBeLessThan(0.3);
    await expectPublished(run, result);
  });
});

describe('generateHls: bad input', () => {
  it('fails a truncated MP4 as incomplete, says how much was readable, and deletes the prefix', async () => {
    const run = await setUp();
    const error = await failureOf(generateHls(optionsFor(run, await urlOf('truncated-mp4', 8))));
    expect(error).toMatchObject({ code: 'incomplete', permanent: true });
    expect(error.message).toMatch(
      /^The video file is incomplete or damaged: only \d+\.\d of 8\.0 seconds could be read\.$/,
    );
    await expectCleanedUp(run);
  });

  it.each([
    ['random-bytes', MediaMessage.NotAVideo],
    ['zero-bytes', MediaMessage.Empty],
  ] as const)(
    'rejects %s as invalid_input with a readable message, uploading nothing',
    async (kind, message) => {
      const run = await setUp();
      const error = await failureOf(generateHls(optionsFor(run, await urlOf(kind, 8))));
      expect(error).toMatchObject({ code: 'invalid_input', permanent: true, message });
      expect(run.sink.calls.filter((call) => call.op !== 'deletePrefix')).toEqual([]);
      await expectCleanedUp(run);
    },
  );

  it('refuses an "upload" that is a playlist, without fetching what it lists (no request forgery)', async () => {
    const run = await setUp();
    await writeFile(join(mediaDir, 'internal-secret.ts'), 'not for ffmpeg');
    const target = server.url('internal-secret.ts');
    const playlist = `#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\n${target}\n#EXT-X-ENDLIST\n`;
    await writeFile(join(mediaDir, 'playlist-disguised.mp4'), playlist);
    const error = await failureOf(generateHls(optionsFor(run, server.url('playlist-disguised.mp4'))));
    expect(error).toMatchObject({ code: 'invalid_input', permanent: true, message: MediaMessage.NotAVideo });
    expect(server.requests.some((request) => request.includes('internal-secret'))).toBe(false);
    await expectCleanedUp(run);
  });

  it('refuses to publish when the source server ignores Range (ffmpeg exits 0 with nothing)', async () => {
    const noRanges = await serveDirectory(mediaDir, { ranges: false });
    try {
      const run = await setUp();
      const file = await makeTestMedia(mediaDir, 'h264-aac-moov-end', { seconds: 8 });
      const error = await failureOf(generateHls(optionsFor(run, noRanges.url(basename(file)))));
      expect(error).toMatchObject({ code: 'incomplete', permanent: true });
      await expectCleanedUp(run);
    } finally {
      await noRanges.close();
    }
  });

  it('fails a missing source permanently as not found', async () => {
    const run = await setUp();
    const error = await failureOf(generateHls(optionsFor(run, server.url('nothing-here.mp4'))));
    expect(error).toMatchObject({
      code: 'invalid_input',
      permanent: true,
      message: MediaMessage.SourceNotFound,
    });
    await expectCleanedUp(run);
  });
});

describe('generateHls: storage and cancellation', () => {
  it('fails transiently when the bucket refuses a segment, and deletes what was stored', async () => {
    const run = await setUp({ failOnPutFile: 2 });
    const error = await failureOf(
      generateHls(
        optionsFor(run, await urlOf('h264-aac-faststart', 8), { segmentSeconds: 2, uploadConcurrency: 1 }),
      ),
    );
    expect(error).toMatchObject({ code: 'storage', permanent: false, message: MediaMessage.StoreFailed });
    expect((error.cause as Error).message).toBe('storage is down');
    await expectCleanedUp(run);
  });

  it('stops when aborted, deletes what was stored and cleans the temp space', async () => {
    const run = await setUp();
    const controller = new AbortController();
    const error = await failureOf(
      generateHls(
        optionsFor(run, await urlOf('vp9-opus-webm', 8), {
          segmentSeconds: 2,
          signal: controller.signal,
          onSegmentStored: () => controller.abort(),
        }),
      ),
    );
    expect(error).toMatchObject({ code: 'aborted', permanent: false });
    await expectCleanedUp(run);
  });

  it('fails transiently at the wall-clock limit and cleans up', async () => {
    const run = await setUp();
    const error = await failureOf(
      generateHls(optionsFor(run, await urlOf('vp9-opus-webm', 8), { timeoutMs: () => 1 })),
    );
    expect(error).toMatchObject({ code: 'timeout', permanent: false });
    await expectCleanedUp(run);
  });

  it('logs a failing onSegmentStored listener and still publishes', async () => {
    const run = await setUp();
    const warnings: string[] = [];
    const logger = {
      info() {},
      error() {},
      warn: (_obj: object, msg?: string) => void warnings.push(msg ?? ''),
    };
    const result = await generateHls(
      optionsFor(run, await urlOf('audio-only-m4a', 8), {
        logger,
        onSegmentStored: () => Promise.reject(new Error('database is down')),
      }),
    );
    expect(await run.sink.keys()).toContain(result.playlistKey);
    expect(warnings).toContain('hls generation: onSegmentStored failed');
  });

  it('pauses ffmpeg while uploads lag behind, keeping only a few segments on disk', async () => {
    let release = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const run = await setUp({ beforePutFile: () => gate });
    const maxPendingSegments = 2;
    const generation = generateHls(
      optionsFor(run, await urlOf('vp9-opus-webm', 8), {
        segmentSeconds: 1,
        uploadConcurrency: 1,
        maxPendingSegments,
      }),
    );
    try {
      const pid = await waitForStoppedFfmpeg(run.tempRoot);
      const [jobDir] = await readdir(run.tempRoot);
      const onDisk = (await readdir(join(run.tempRoot, jobDir as string))).filter((name) =>
        /^segment\d+\.ts$/.test(name),
      );
      expect(onDisk.length).toBeLessThanOrEqual(maxPendingSegments + 3);
      expect(pid).toBeGreaterThan(0);
    } finally {
      release();
    }
    const result = await generation;
    expect(result.segmentCount).toBe(8);
    await expectPublished(run, result);
  });
});

/** Finds the ffmpeg working under `tempRoot` and waits until it is stopped (state T); fails if it exits first. */
async function waitForStoppedFfmpeg(tempRoot: string): Promise<number> {
  const deadline = Date.now() + 30_000;
  let seen: number | undefined;
  while (Date.now() < deadline) {
    for (const entry of await readdir('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
      if (!cmdline.startsWith(FFMPEG_PATH) || !cmdline.includes(tempRoot)) continue;
      seen = Number(entry);
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
      if (/^\d+ \(.*\) T /.test(stat)) return seen;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(seen === undefined ? 'ffmpeg never started' : 'ffmpeg was never paused');
}
