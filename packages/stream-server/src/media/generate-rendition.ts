import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { StorageError } from '../storage/storage.js';
import { checkSource } from './check-source.js';
import { DEFAULT_READ_TIMEOUT_SECONDS } from './ffmpeg-args.js';
import { HLS_PLAYLIST_NAME, parseSegmentIndex, segmentFileName } from './hls-layout.js';
import { MediaMessage } from './ffmpeg-failure.js';
import { PLAYLIST_CONTENT_TYPE, SEGMENT_CONTENT_TYPE, type HlsLogger, type HlsSink } from './generate-hls.js';
import { codecsFor, measureBandwidth, targetDurationOf } from './hls-codecs.js';
import { buildHlsPlaylist, parseHlsPlaylist, playlistDuration, type HlsSegment } from './hls-playlist.js';
import { createJobAbort } from './job-abort.js';
import { MediaError } from './media-error.js';
import { playlistFrameRate } from './media-limits.js';
import { probeMedia, type ProbeResult } from './probe-media.js';
import {
  alignmentTolerance,
  buildRenditionArgs,
  defaultAudioBitrateKbps,
  defaultVideoBitrateKbps,
  evenHeight,
  renditionKeyframeTimes,
  renditionProfile,
  segmentMismatch,
} from './rendition-args.js';
import { LaunchPriority, type ProcessLauncher } from './process-launcher.js';
import { BACKGROUND_NICENESS, runFfmpeg } from './run-ffmpeg.js';

export interface GenerateRenditionProgress {
  /** How far ffmpeg has got, in seconds of output. */
  encodedSeconds: number;
  /** Encoded over expected duration while encoding (at most 0.99); 1 once the playlist is stored. */
  fraction: number;
}

export interface GenerateRenditionOptions {
  /** What ffmpeg reads: the ORIGINAL source (presigned GET URL or a path), not the source rendition. */
  sourceUrl: string;
  /** Storage prefix of this rung, ending in `/`, e.g. `videos/u/v_hls/480p/`. Deleted again on failure. */
  outputPrefix: string;
  /** Output height (rounded to even); the width follows the display aspect ratio, rounded to even. */
  height: number;
  /**
   * The `#EXTINF` durations of the source rendition's playlist, in order. The rung gets the same number of
   * segments with the same boundaries, so a player can switch rungs at any segment.
   */
  segmentDurations: readonly number[];
  /** The probe of the original source (`GenerateHlsResult.probe`): stream indexes, start times, frame rate. */
  source: ProbeResult;
  sink: HlsSink;
  /** A per-job directory is made under it and removed on every path. */
  tempRoot: string;
  /** Default `ffmpeg` / `ffprobe` on PATH. */
  ffmpegPath?: string;
  ffprobePath?: string;
  /** What starts ffmpeg and ffprobe: the worker's launcher helper, or `directLauncher` without a server. */
  launcher: ProcessLauncher;
  /** ffmpeg's wall-clock limit; default 10 minutes + 6 s per second of video. */
  timeoutMs?: number;
  /** Limit for the source check and the probe of the output; default 60 s. */
  probeTimeoutMs?: number;
  /** I/O timeout while ffmpeg reads the source, in seconds; default 30. */
  readTimeoutSeconds?: number;
  /** Segment uploads in flight at once; default 4. */
  uploadConcurrency?: number;
  /**
   * Video bit-rate cap in kbit/s (x264 `-maxrate`; the buffer is 2 s of it). Default by height, see
   * `DEFAULT_VIDEO_BITRATES_KBPS`: 1080→5000, 720→2800, 540→1800, 480→1200, 360→700, 240→400, 144→200, linear
   * in between.
   */
  videoBitrateKbps?: number;
  /** AAC-LC bit rate in kbit/s; default 128, 96 at 360p and below. */
  audioBitrateKbps?: number;
  signal?: AbortSignal;
  onProgress?(progress: GenerateRenditionProgress): void;
  logger?: HlsLogger;
}

export interface GenerateRenditionResult {
  /** `outputPrefix + 'playlist.m3u8'`, stored last. */
  playlistKey: string;
  /** Of the produced picture (display size, square pixels). */
  width: number;
  height: number;
  /** Measured peak segment bit rate in bits/s (RFC 8216 `BANDWIDTH`), from the stored segment sizes. */
  bandwidth: number;
  /** Measured total bits over total duration (`AVERAGE-BANDWIDTH`). */
  averageBandwidth: number;
  /** RFC 6381 codecs of the produced streams, e.g. `avc1.64001f,mp4a.40.2`. */
  codecs: string;
  /** Frames per second, 3 decimals (`FRAME-RATE`); `null` only if neither the output nor the source tells. */
  frameRate: number | null;
  segmentCount: number;
  /** Sum of the published segment durations. */
  durationSeconds: number;
}

const silentLogger: HlsLogger = { info() {}, warn() {}, error() {} };

function defaultTimeoutMs(durationSeconds: number): number {
  return 10 * 60_000 + durationSeconds * 6_000;
}

function roundFrameRate(fps: number | undefined): number | null {
  return playlistFrameRate(fps);
}

function storageFailure(cause: unknown): MediaError {
  const permanent = cause instanceof StorageError ? !cause.transient : false;
  return new MediaError('storage', MediaMessage.StoreFailed, { permanent, cause });
}

function conversionFailure(cause: unknown): MediaError {
  return new MediaError('ffmpeg_failed', MediaMessage.ConversionFailed, { permanent: false, cause });
}

/**
 * Makes one lower rung of the bitrate ladder from the original source: H.264 (libx264 veryfast, yuv420p, High
 * from 720p up and Main below, capped CRF) + AAC-LC stereo, with keyframes forced exactly at the source
 * rendition's segment boundaries and nowhere else, written as HLS into a per-job temp dir.
 *
 * Before anything is stored the result is verified: the same number of segments as `segmentDurations`, each
 * within 0.1 s (or one frame) of its counterpart. Then the segments are uploaded (bounded concurrency) and the
 * VOD playlist (`playlist.m3u8`, relative segment URIs, `#EXT-X-ENDLIST`) last. Bandwidth is measured from the
 * segment files, codecs / size / frame rate from ffprobe on the first produced segment.
 *
 * On any failure ffmpeg is killed, uploads settle, the output prefix is deleted and a {@link MediaError} is
 * thrown: `ffmpeg_failed` (permanent) when the rung does not line up, `incomplete` when it is short, `storage`,
 * `invalid_input` for a source that is gone, `timeout`, `aborted`, `unsupported` for a source without video.
 * The temp dir is removed on every path.
 *
 * @example
 * const source = await generateHls({ sourceUrl, outputPrefix: 'videos/u/v_hls/', sink: storage, tempRoot });
 * const playlist = await storage.getObjectText(source.playlistKey);
 * const rung = await generateRendition({
 *   sourceUrl: await storage.presignGet('videos/u/v.mp4', { expiresInSeconds: 3600 }),
 *   outputPrefix: 'videos/u/v_hls/480p/',
 *   height: 480,
 *   segmentDurations: parseHlsPlaylist(playlist).segments.map((s) => s.durationSeconds),
 *   source: source.probe,
 *   sink: storage,
 *   tempRoot: '/var/tmp/notetaker',
 * });
 * rung.codecs; // 'avc1.4d401e,mp4a.40.2'
 */
export async function generateRendition(options: GenerateRenditionOptions): Promise<GenerateRenditionResult> {
  const { sink, outputPrefix, segmentDurations } = options;
  if (!outputPrefix.endsWith('/')) throw new TypeError('outputPrefix must end with "/"');
  if (!(options.height > 0)) throw new TypeError('height must be positive');
  if (segmentDurations.length === 0 || segmentDurations.some((duration) => !(duration > 0))) {
    throw new TypeError('segmentDurations must be a non-empty list of positive durations');
  }
  const logger = options.logger ?? silentLogger;
  const height = evenHeight(options.height);
  const video = options.source.video;
  const audio = options.source.audio;
  const probeTimeoutMs = options.probeTimeoutMs ?? 60_000;
  const concurrency = Math.max(1, options.uploadConcurrency ?? 4);
  const expectedSeconds = segmentDurations.reduce((sum, duration) => sum + duration, 0);
  const startedAt = Date.now();

  const job = createJobAbort(options.signal);
  const { fail, throwIfFailed } = job;
  const report = (progress: GenerateRenditionProgress) => {
    try {
      options.onProgress?.(progress);
    } catch (error) {
      logger.warn({ err: error }, 'rendition: onProgress failed');
    }
  };

  let workDir: string | undefined;
  const uploads: Promise<void>[] = [];
  try {
    throwIfFailed();
    if (!video) {
      throw new MediaError('unsupported', 'The video has no picture to make a smaller rendition from.', {
        permanent: true,
      });
    }
    const checked = await checkSource(options.sourceUrl, { timeoutMs: probeTimeoutMs, signal: job.signal });
    if (checked.rangeSupported === false) {
      logger.warn(
        { sizeBytes: checked.sizeBytes },
        'rendition: the source ignores Range; an MP4 with its index at the end will fail',
      );
    }
    throwIfFailed();
    await mkdir(options.tempRoot, { recursive: true });
    workDir = await mkdtemp(join(options.tempRoot, 'rendition-'));
    const dir = workDir;
    throwIfFailed();

    // ---- encode ----------------------------------------------------------------------------------------------
    const keyframeTimes = renditionKeyframeTimes(segmentDurations, {
      videoStartSeconds: (video.startSeconds ?? 0) - (options.source.startSeconds ?? 0),
      fps: video.fps,
    });
    let args: string[];
    try {
      args = buildRenditionArgs({
        input: options.sourceUrl,
        outputDir: dir,
        videoStreamIndex: video.index,
        audioStreamIndex: audio?.index,
        height,
        keyframeTimes,
        videoBitrateKbps: options.videoBitrateKbps ?? defaultVideoBitrateKbps(height),
        audioBitrateKbps: options.audioBitrateKbps ?? defaultAudioBitrateKbps(height),
        profile: renditionProfile(height),
        readTimeoutSeconds: options.readTimeoutSeconds ?? DEFAULT_READ_TIMEOUT_SECONDS,
      });
    } catch (cause) {
      throw new MediaError('unsupported', 'The video has too many segments for a smaller rendition.', {
        permanent: true,
        cause,
      });
    }
    await runFfmpeg({
      bin: options.ffmpegPath ?? 'ffmpeg',
      launcher: options.launcher,
      args,
      timeoutMs: options.timeoutMs ?? defaultTimeoutMs(expectedSeconds),
      signal: job.signal,
      niceness: BACKGROUND_NICENESS,
      priority: LaunchPriority.Background,
      transcode: true,
      onProgress: (encodedSeconds) =>
        report({ encodedSeconds, fraction: Math.min(0.99, Math.max(0, encodedSeconds / expectedSeconds)) }),
    });
    throwIfFailed();

    // ---- verify before storing anything ----------------------------------------------------------------------
    const listed = await readFile(join(dir, HLS_PLAYLIST_NAME), 'utf8').catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
      throw error;
    });
    const segments: HlsSegment[] = parseHlsPlaylist(listed).segments;
    segments.forEach((segment, index) => {
      if (parseSegmentIndex(segment.uri) !== index) {
        throw conversionFailure(new Error(`unexpected segment "${segment.uri}" at position ${index}`));
      }
    });
    const producedSeconds = playlistDuration(segments);
    const tolerance = alignmentTolerance(video.fps);
    const mismatch = segmentMismatch(
      segmentDurations,
      segments.map((segment) => segment.durationSeconds),
      tolerance,
    );
    if (mismatch !== null) {
      const short = producedSeconds < expectedSeconds - Math.max(1, tolerance);
      throw new MediaError(
        short ? 'incomplete' : 'ffmpeg_failed',
        `The ${height}p rendition does not line up with the source rendition: ${mismatch}.`,
        { permanent: true },
      );
    }
    const sizes = await Promise.all(
      segments.map(async (_, index) => (await stat(join(dir, segmentFileName(index)))).size),
    );
    let produced: ProbeResult;
    try {
      produced = await probeMedia(join(dir, segmentFileName(0)), {
        ffprobePath: options.ffprobePath,
        launcher: options.launcher,
        priority: LaunchPriority.Background,
        timeoutMs: probeTimeoutMs,
        signal: job.signal,
      });
    } catch (error) {
      throw job.firstError ?? conversionFailure(error);
    }
    if (!produced.video) throw conversionFailure(new Error('the first segment has no video stream'));
    const codecs = codecsFor({ video: produced.video, audio: produced.audio });
    const frameRate = roundFrameRate(produced.video.fps ?? video.fps);
    const targetDurationSeconds = targetDurationOf(segments.map((segment) => segment.durationSeconds));
    const { bandwidth, averageBandwidth } = measureBandwidth(
      segments.map((segment, index) => ({
        bytes: sizes[index] ?? 0,
        durationSeconds: segment.durationSeconds,
      })),
      { targetDurationSeconds },
    );

    // ---- store: segments, then the playlist ------------------------------------------------------------------
    let next = 0;
    const uploadNext = async (): Promise<void> => {
      while (next < segments.length) {
        throwIfFailed();
        const index = next;
        next += 1;
        try {
          await sink.putFile(outputPrefix + segmentFileName(index), join(dir, segmentFileName(index)), {
            contentType: SEGMENT_CONTENT_TYPE,
            finalFile: true,
            signal: job.signal,
          });
        } catch (error) {
          fail(job.signal.aborted && job.firstError ? job.firstError : storageFailure(error));
          throw job.firstError;
        }
      }
    };
    for (let i = 0; i < Math.min(concurrency, segments.length); i += 1) uploads.push(uploadNext());
    await Promise.all(uploads);
    throwIfFailed();

    const playlistKey = outputPrefix + HLS_PLAYLIST_NAME;
    try {
      await sink.putObject(playlistKey, buildHlsPlaylist({ type: 'vod', segments }), {
        contentType: PLAYLIST_CONTENT_TYPE,
        signal: job.signal,
      });
    } catch (error) {
      throw job.firstError ?? storageFailure(error);
    }
    throwIfFailed();
    report({ encodedSeconds: producedSeconds, fraction: 1 });

    const result: GenerateRenditionResult = {
      playlistKey,
      width: produced.video.width,
      height: produced.video.height,
      bandwidth,
      averageBandwidth,
      codecs,
      frameRate,
      segmentCount: segments.length,
      durationSeconds: producedSeconds,
    };
    logger.info({ ...result, ms: Date.now() - startedAt }, 'rendition: done');
    return result;
  } catch (caught) {
    const error = job.firstError ?? (caught instanceof MediaError ? caught : conversionFailure(caught));
    fail(error);
    await Promise.allSettled(uploads);
    try {
      await sink.deletePrefix(outputPrefix);
    } catch (cleanupError) {
      logger.error({ err: cleanupError, outputPrefix }, 'rendition: could not delete partial output');
    }
    logger.warn(
      {
        height,
        code: error.code,
        permanent: error.permanent,
        stderrTail: error.details.stderrTail,
        command: error.details.command,
      },
      `rendition failed: ${error.message}`,
    );
    throw error;
  } finally {
    job.dispose();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  }
}
