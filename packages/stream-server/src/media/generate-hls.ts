import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { MediaPlan } from './choose-plan.js';
import {
  buildHlsArgs,
  DEFAULT_READ_TIMEOUT_SECONDS,
  DEFAULT_SEGMENT_SECONDS,
  StreamAction,
} from './ffmpeg-args.js';
import { HLS_PLAYLIST_NAME } from './hls-layout.js';
import { parseHlsPlaylist, playlistDuration } from './hls-playlist.js';
import { createJobAbort, type JobAbort } from './job-abort.js';
import { MediaError } from './media-error.js';
import { durationLimitError, type MediaLimits } from './media-limits.js';
import type { ProbeResult } from './probe-media.js';
import { LaunchPriority, type ProcessLauncher } from './process-launcher.js';
import { GENERATION_REST_NICENESS, startFfmpeg, type MediaProcess } from './run-ffmpeg.js';
import { probeFirstSegment, type FirstSegmentProbe } from './hls/first-segment-probe.js';
import { incompleteError, storageFailure, unexpectedFailure } from './hls/hls-errors.js';
import {
  PLAYLIST_CONTENT_TYPE,
  silentLogger,
  type HlsLogger,
  type HlsSink,
  type SegmentStored,
} from './hls/hls-output.js';
import { chooseHlsPlan, type ChosenPlan } from './hls/plan-step.js';
import { uploadSegments, type SegmentUploads } from './hls/segment-uploads.js';
import { watchSegments, type SegmentWatcher } from './hls/segment-watcher.js';
import { verifyOutput } from './hls/verify-step.js';

export { PLAYLIST_CONTENT_TYPE, SEGMENT_CONTENT_TYPE } from './hls/hls-output.js';
export type { HlsLogger, HlsSink, SegmentStored } from './hls/hls-output.js';
export { durationTolerance } from './hls/verify-step.js';

/**
 * How long after the first stored segment a probe that the MP4 index let wait is started. Its answer is only needed
 * at the end; starting it (a process spawn, then a read of the whole index) while the viewer's first playlist and
 * segment requests arrive would delay them.
 */
const DEFERRED_PROBE_DELAY_MS = 1000;

export interface GenerateHlsProgress {
  /** Stored duration over probed duration; 1 only once the final playlist is stored. */
  fraction: number;
  /** Segments stored in a row from the first one. */
  storedSegments: number;
  /** How far ffmpeg has got in the output, in seconds. */
  encodedSeconds: number;
}

export interface GenerateHlsOptions {
  /**
   * What ffmpeg reads: a presigned GET URL (read with range requests, never downloaded first) or the path of a file
   * on this machine (local storage's own file for the object).
   */
  sourceUrl: string;
  /**
   * The `Content-Type` storage declares for the source. A URL's answer tells it too; for a path it is the only
   * word on it (a WebM or QuickTime upload then skips the optimistic copy, as it does when read through a URL).
   */
  sourceContentType?: string | undefined;
  /** Storage prefix of the output, ending in `/`, e.g. `videos/u/v_hls/`. Deleted again on failure. */
  outputPrefix: string;
  sink: HlsSink;
  /** A per-job directory is made under it and removed on every path. */
  tempRoot: string;
  /** Default 6. */
  segmentSeconds?: number;
  /** Default `ffmpeg` / `ffprobe` on PATH. */
  ffmpegPath?: string;
  ffprobePath?: string;
  /** What starts ffmpeg and ffprobe: the worker's launcher helper, or `directLauncher` without a server. */
  launcher: ProcessLauncher;
  /**
   * ffmpeg's wall-clock limit in ms, or a function of the probed duration (`null` for live WebM without one).
   * Default: 10 minutes + 4× the duration (2 hours assumed when unknown).
   */
  timeoutMs?: number | ((probedDurationSeconds: number | null) => number);
  /** Limit for the source check and ffprobe; default 60 s. */
  probeTimeoutMs?: number;
  /** I/O timeout while ffmpeg reads the source, in seconds; default 30. */
  readTimeoutSeconds?: number;
  /** Segment uploads in flight at once; default 4. */
  uploadConcurrency?: number;
  /**
   * Listed segments waiting for upload before ffmpeg is paused (SIGSTOP) until half of them are stored, which
   * keeps temp space at a few segments even when the bucket is slower than ffmpeg. Default 2× concurrency.
   */
  maxPendingSegments?: number;
  /**
   * Start the copy most uploads get while the source is still probed, and keep it when the probe agrees — or at
   * once, when the MP4's own index shows the plan, with the probe checking it later (decision 0010). Default true;
   * skipped anyway for sources the storage declares as non-MP4.
   */
  optimisticCopy?: boolean;
  /**
   * Sources longer or larger than these are refused (permanent `unsupported`) before anything is published: by the
   * MP4 index or the probe, and while ffmpeg reads when the duration is not known up front. Default: no limits.
   */
  limits?: MediaLimits | undefined;
  /**
   * Looks at a failure before anything is cleaned up (the output is still in storage and the temp folder), and
   * may answer another error instead: the worker turns a failure on a full disk into a transient one.
   */
  classifyFailure?(error: MediaError): MediaError | Promise<MediaError>;
  signal?: AbortSignal;
  onProgress?(progress: GenerateHlsProgress): void;
  /**
   * Called in index order once a segment and all before it are stored, so the EVENT playlist can be published
   * for play-while-generating. Awaited one after another; an error here is logged, not fatal.
   */
  onSegmentStored?(segment: SegmentStored): void | Promise<void>;
  logger?: HlsLogger;
}

export interface GenerateHlsResult {
  /** `outputPrefix + 'playlist.m3u8'`, stored last. */
  playlistKey: string;
  /** Sum of the published segment durations. */
  durationSeconds: number;
  probedDurationSeconds: number | null;
  segmentCount: number;
  mode: 'copy' | 'transcode';
  probe: ProbeResult;
  plan: MediaPlan;
  /** Measured peak segment bit rate in bits/s (RFC 8216 `BANDWIDTH`), from the sizes of the stored segments. */
  bandwidth: number;
  /** Measured total bits over total duration (`AVERAGE-BANDWIDTH`). */
  averageBandwidth: number;
  /**
   * RFC 6381 codecs of the published streams, e.g. `avc1.640028,mp4a.40.2`: from the probe for copied streams,
   * from ffprobe on the first segment for transcoded video (estimated if that probe fails).
   */
  codecs: string;
  /** Picture size of the published video; `null` for audio-only. */
  width: number | null;
  height: number | null;
  /** Frames per second, 3 decimals; `null` for audio-only (or when unknown). */
  frameRate: number | null;
}

function defaultTimeoutMs(durationSeconds: number | null): number {
  return 10 * 60_000 + (durationSeconds ?? 2 * 3600) * 4_000;
}

/** What one generation holds while it runs, so that every path out can stop and remove all of it. */
interface Generation {
  job: JobAbort;
  logger: HlsLogger;
  /** Temp folders removed at the end, whatever happens. */
  workDirs: string[];
  chosen?: ChosenPlan | undefined;
  ffmpeg?: MediaProcess | undefined;
  watcher?: SegmentWatcher | undefined;
  uploads?: SegmentUploads | undefined;
  firstSegment?: FirstSegmentProbe | undefined;
  deferredProbeTimer?: NodeJS.Timeout | undefined;
}

/**
 * Turns a source URL into a published HLS stream, in four named steps: **plan** (`hls/plan-step.ts`: check the
 * source, choose copy or transcode, maybe keep the copy already running), then ffmpeg reads the URL and writes
 * segments into a per-job temp dir while **watch segments** (`hls/segment-watcher.ts`) reports each listed segment
 * and **upload** (`hls/segment-uploads.ts`) stores it (bounded concurrency, backpressure) and announces the
 * progressive playlist; last, **verify** (`hls/verify-step.ts`) checks the produced duration against the probe and
 * the VOD playlist is stored last.
 *
 * On any failure ffmpeg is killed, in-flight uploads settle, the output prefix is deleted (nothing half
 * published) and a {@link MediaError} is thrown: `storage` for the bucket (transient unless the storage says
 * otherwise) and for an unreachable source, `invalid_input` / `incomplete` / `unsupported` for bad input
 * (permanent), `timeout`, `aborted`, `ffmpeg_failed`.
 *
 * @example
 * const result = await generateHls({
 *   sourceUrl: await storage.presignGet('videos/u/v.mp4', { expiresInSeconds: 3600 }),
 *   outputPrefix: 'videos/u/v_hls/',
 *   sink: storage,
 *   tempRoot: '/var/tmp/notetaker',
 *   launcher,
 *   onSegmentStored: ({ playlistSoFar }) => publishProgressivePlaylist(playlistSoFar),
 * });
 * result.playlistKey; // 'videos/u/v_hls/playlist.m3u8'
 */
export async function generateHls(options: GenerateHlsOptions): Promise<GenerateHlsResult> {
  if (!options.outputPrefix.endsWith('/')) throw new TypeError('outputPrefix must end with "/"');
  const run: Generation = {
    job: createJobAbort(options.signal),
    logger: options.logger ?? silentLogger,
    workDirs: [],
  };
  try {
    return await produce(options, run);
  } catch (caught) {
    throw await cleanUpFailure(options, run, caught);
  } finally {
    clearTimeout(run.deferredProbeTimer);
    run.job.dispose();
    await Promise.all(run.workDirs.map((dir) => rm(dir, { recursive: true, force: true })));
  }
}

/** The steps in order: plan, run ffmpeg while watching and uploading its segments, verify, store the playlist. */
async function produce(options: GenerateHlsOptions, run: Generation): Promise<GenerateHlsResult> {
  const { job, logger } = run;
  const startedAt = Date.now();
  const segmentSeconds = options.segmentSeconds ?? DEFAULT_SEGMENT_SECONDS;
  const probeTimeoutMs = options.probeTimeoutMs ?? 60_000;
  const concurrency = Math.max(1, options.uploadConcurrency ?? 4);
  let encodedSeconds = 0;
  let storedSeconds = 0;
  const report = (fraction: number) => {
    try {
      options.onProgress?.({ fraction, storedSegments: run.uploads?.storedRun ?? 0, encodedSeconds });
    } catch (error) {
      logger.warn({ err: error }, 'hls generation: onProgress failed');
    }
  };
  const storedFraction = () => {
    const probed = run.chosen?.probe?.durationSeconds ?? null;
    return probed === null || probed <= 0 ? 0 : Math.min(0.99, Math.max(0, storedSeconds / probed));
  };
  const timeoutFor = (seconds: number | null): number =>
    typeof options.timeoutMs === 'function'
      ? options.timeoutMs(seconds)
      : (options.timeoutMs ?? defaultTimeoutMs(seconds));
  const startRun = (plan: MediaPlan, outputDir: string, signal: AbortSignal, limitMs: number) =>
    startFfmpeg({
      bin: options.ffmpegPath ?? 'ffmpeg',
      args: buildHlsArgs({
        input: options.sourceUrl,
        outputDir,
        plan,
        segmentSeconds,
        readTimeoutSeconds: options.readTimeoutSeconds ?? DEFAULT_READ_TIMEOUT_SECONDS,
      }),
      timeoutMs: limitMs,
      signal,
      launcher: options.launcher,
      // A first view waits for it: it goes before the rest of other generations and work after `ready`.
      priority: LaunchPriority.FirstView,
      transcode: plan.video === StreamAction.Transcode,
      onProgress: (seconds) => {
        // A duration the source did not state up front (WebM written live), or one its index understated.
        const limits = options.limits;
        if (limits && seconds > limits.maxDurationSeconds + 1) job.fail(durationLimitError(seconds, limits));
        encodedSeconds = seconds;
        report(storedFraction());
      },
    });

  // ---- plan ------------------------------------------------------------------------------------------------------
  const chosen = await chooseHlsPlan({
    sourceUrl: options.sourceUrl,
    sourceContentType: options.sourceContentType,
    tempRoot: options.tempRoot,
    ffprobePath: options.ffprobePath,
    launcher: options.launcher,
    probeTimeoutMs,
    readTimeoutSeconds: options.readTimeoutSeconds,
    optimisticCopy: options.optimisticCopy !== false,
    limits: options.limits,
    job,
    logger,
    // Its limit is the one for an unknown duration: a copy runs at many times real time, so that is plenty.
    startCopy: (plan, dir, signal) => startRun(plan, dir, signal, timeoutFor(null)),
    workDirs: run.workDirs,
  });
  run.chosen = chosen;
  const { plan } = chosen;
  let dir: string;
  if (chosen.adopted) {
    run.ffmpeg = chosen.adopted.process;
    dir = chosen.adopted.dir;
  } else {
    dir = await mkdtemp(join(options.tempRoot, 'hls-'));
    run.workDirs.push(dir);
  }
  job.throwIfFailed();

  // ---- run ffmpeg (or keep the adopted copy), watch its segments and upload them ---------------------------------
  const ffmpeg = (run.ffmpeg ??= startRun(
    plan,
    dir,
    job.signal,
    timeoutFor(chosen.probe?.durationSeconds ?? null),
  ));
  const firstSegment =
    plan.video === StreamAction.Transcode
      ? (run.firstSegment = probeFirstSegment({
          dir,
          ffprobePath: options.ffprobePath,
          launcher: options.launcher,
          timeoutMs: probeTimeoutMs,
          signal: job.signal,
          logger,
        }))
      : undefined;
  const uploads = (run.uploads = uploadSegments({
    dir,
    outputPrefix: options.outputPrefix,
    sink: options.sink,
    writer: ffmpeg,
    concurrency,
    maxPending: Math.max(1, options.maxPendingSegments ?? concurrency * 2),
    segmentSeconds,
    job,
    logger,
    beforeUpload: async (index, file) => {
      if (index === 0) await firstSegment?.keep(file);
    },
    onSegmentStored: options.onSegmentStored,
    onStoredRun: (index, seconds) => {
      storedSeconds = seconds;
      if (index === 0) {
        // Playable now: the rest of this video yields the CPU to videos still waiting for their first segment.
        ffmpeg.lowerPriority(GENERATION_REST_NICENESS);
        run.deferredProbeTimer = setTimeout(() => chosen.startProbe(), DEFERRED_PROBE_DELAY_MS);
      }
      report(storedFraction());
    },
  }));
  const watcher = (run.watcher = watchSegments({
    dir,
    signal: job.signal,
    onListed: (listed) => uploads.add(listed),
    onError: (error) => job.fail(unexpectedFailure(error)),
  }));
  await ffmpegFinished(ffmpeg, run, dir, () => encodedSeconds);
  await watcher.finish();
  await uploads.drain();
  await uploads.notified();

  // ---- verify, then store the VOD playlist last ------------------------------------------------------------------
  chosen.startProbe();
  await chosen.probeChecked();
  job.throwIfFailed();
  const probe = chosen.probe;
  if (!probe) throw unexpectedFailure(new Error('the probe did not answer'));
  const output = verifyOutput({
    segments: watcher.segments,
    sizes: uploads.sizes,
    probe,
    plan,
    firstSegment: await firstSegment?.result(),
    segmentSeconds,
  });
  job.throwIfFailed();
  const playlistKey = options.outputPrefix + HLS_PLAYLIST_NAME;
  try {
    await options.sink.putObject(playlistKey, output.playlist, {
      contentType: PLAYLIST_CONTENT_TYPE,
      signal: job.signal,
    });
  } catch (error) {
    throw job.firstError ?? storageFailure(error);
  }
  job.throwIfFailed();
  report(1);
  const { playlist: _playlist, ...described } = output;
  logger.info(
    {
      durationSeconds: output.durationSeconds,
      probedDurationSeconds: probe.durationSeconds,
      segmentCount: watcher.segments.length,
      mode: plan.mode,
      bandwidth: output.bandwidth,
      codecs: output.codecs,
      ms: Date.now() - startedAt,
    },
    'hls generation: done',
  );
  return {
    playlistKey,
    probedDurationSeconds: probe.durationSeconds,
    segmentCount: watcher.segments.length,
    mode: plan.mode,
    probe,
    plan,
    ...described,
  };
}

/**
 * Waits for ffmpeg to exit. A failure of the job meanwhile wins; ffmpeg stopping at a corrupt packet (`-xerror`)
 * is told as how far it got.
 */
async function ffmpegFinished(
  ffmpeg: MediaProcess,
  run: Generation,
  dir: string,
  encodedSeconds: () => number,
): Promise<void> {
  try {
    await ffmpeg.result;
  } catch (error) {
    if (run.job.firstError) throw run.job.firstError;
    run.chosen?.startProbe();
    await run.chosen?.probeChecked();
    const probed = run.chosen?.probe?.durationSeconds ?? null;
    if (error instanceof MediaError && error.code === 'incomplete' && probed !== null) {
      const listed = await readFile(join(dir, HLS_PLAYLIST_NAME), 'utf8').catch(() => '');
      const readSeconds = Math.max(encodedSeconds(), playlistDuration(parseHlsPlaylist(listed).segments));
      throw incompleteError(readSeconds, probed, error);
    }
    throw error;
  }
}

/**
 * After a failure: records it (which stops ffmpeg and the uploads), lets the caller classify it while the output
 * is still there, waits for everything the run started, deletes the output prefix and logs. Returns the error
 * to throw.
 */
async function cleanUpFailure(
  options: GenerateHlsOptions,
  run: Generation,
  caught: unknown,
): Promise<MediaError> {
  const { job, logger } = run;
  let error = job.firstError ?? unexpectedFailure(caught);
  job.fail(error);
  if (options.classifyFailure && error.code !== 'aborted') {
    const original = error;
    error = await Promise.resolve(options.classifyFailure(original)).catch(() => original);
  }
  run.watcher?.stop();
  await run.ffmpeg?.result.catch(() => undefined);
  await run.chosen?.probeChecked();
  await run.watcher?.settled();
  await run.uploads?.settle();
  await run.firstSegment?.result();
  try {
    await options.sink.deletePrefix(options.outputPrefix);
  } catch (cleanupError) {
    logger.error(
      { err: cleanupError, outputPrefix: options.outputPrefix },
      'hls generation: could not delete partial output',
    );
  }
  logger.warn(
    {
      code: error.code,
      permanent: error.permanent,
      stderrTail: error.details.stderrTail,
      command: error.details.command,
    },
    `hls generation failed: ${error.message}`,
  );
  return error;
}
