import { watch, type FSWatcher } from 'node:fs';
import { link, mkdir, mkdtemp, readFile, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Storage } from '../storage/storage.js';
import { StorageError } from '../storage/storage.js';
import { checkSource } from './check-source.js';
import { choosePlan, type MediaPlan } from './choose-plan.js';
import {
  buildHlsArgs,
  DEFAULT_READ_TIMEOUT_SECONDS,
  DEFAULT_SEGMENT_SECONDS,
  StreamAction,
} from './ffmpeg-args.js';
import { HLS_PLAYLIST_NAME, parseSegmentIndex, segmentFileName } from './hls-layout.js';
import { MediaMessage } from './ffmpeg-failure.js';
import { codecsFor, measureBandwidth, targetDurationOf, type CodecInfo } from './hls-codecs.js';
import { buildHlsPlaylist, parseHlsPlaylist, playlistDuration, type HlsSegment } from './hls-playlist.js';
import { createJobAbort } from './job-abort.js';
import { MediaError } from './media-error.js';
import { checkMediaLimits, durationLimitError, playlistFrameRate, type MediaLimits } from './media-limits.js';
import { readMp4Tracks } from './mp4-tracks.js';
import {
  copyPlanFromIndex,
  samePlan,
  startOptimisticCopy,
  worthOptimisticCopy,
  type OptimisticCopy,
} from './optimistic-copy.js';
import { probeMedia, type ProbeResult } from './probe-media.js';
import { startFfmpeg, type MediaProcess } from './run-ffmpeg.js';

/** Where the HLS output goes: the three storage calls generation needs. */
export type HlsSink = Pick<Storage, 'putFile' | 'putObject' | 'deletePrefix'>;

export interface HlsLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const SEGMENT_CONTENT_TYPE = 'video/mp2t';
export const PLAYLIST_CONTENT_TYPE = 'application/vnd.apple.mpegurl';

/** Name of the hard link to the first segment that is probed while the segment is uploaded. */
const FIRST_SEGMENT_PROBE_FILE = 'first-segment-probe.ts';

/**
 * How long after the first stored segment a probe that the MP4 index let wait is started. Its answer is only needed
 * at the end; starting it (a process spawn that blocks this process for tens of ms when its memory is large, then a
 * read of the whole index) while the viewer's first playlist and segment requests arrive would delay them.
 */
const DEFERRED_PROBE_DELAY_MS = 1000;

/** How often the local playlist is read while ffmpeg runs (file-system events also trigger a read at once). */
const POLL_INTERVAL_MS = 150;

export interface SegmentStored {
  index: number;
  /** Relative URI, e.g. `segment3.ts`. */
  uri: string;
  durationSeconds: number;
  /** An EVENT playlist (with `EXT-X-START:TIME-OFFSET=0`, without ENDLIST) listing segments 0…index. */
  playlistSoFar: string;
}

export interface GenerateHlsProgress {
  /** Stored duration over probed duration; 1 only once the final playlist is stored. */
  fraction: number;
  /** Segments stored in a row from the first one. */
  storedSegments: number;
  /** How far ffmpeg has got in the output, in seconds. */
  encodedSeconds: number;
}

export interface GenerateHlsOptions {
  /** What ffmpeg reads: a presigned GET URL (read with range requests, never downloaded first) or a path. */
  sourceUrl: string;
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

/** What the published streams are: the variant attributes of a master playlist. */
interface OutputDescription {
  codecs: string;
  width: number | null;
  height: number | null;
  frameRate: number | null;
}

/**
 * Describes the output from the source probe and the plan; for transcoded video from the probe of the first
 * produced segment when there is one (x264 picks the level), otherwise what the plan asks for.
 */
function describeOutput(
  probe: ProbeResult,
  plan: MediaPlan,
  firstSegment: ProbeResult | undefined,
): OutputDescription {
  let video: CodecInfo['video'];
  if (plan.video === StreamAction.Copy) video = probe.video;
  else if (plan.video === StreamAction.Transcode) {
    video = firstSegment?.video ?? {
      codec: 'h264',
      profile: 'High',
      width: plan.width ?? probe.video?.width,
      height: plan.height ?? probe.video?.height,
      fps: probe.video?.fps,
    };
  }
  let audio: CodecInfo['audio'];
  if (plan.audio === StreamAction.Copy) audio = probe.audio;
  else if (plan.audio === StreamAction.Transcode)
    audio = firstSegment?.audio ?? { codec: 'aac', profile: 'LC' };
  const fps = video?.fps ?? probe.video?.fps;
  return {
    codecs: codecsFor({ video, audio }),
    width: video?.width ?? null,
    height: video?.height ?? null,
    frameRate: video ? playlistFrameRate(fps) : null,
  };
}

const silentLogger: HlsLogger = { info() {}, warn() {}, error() {} };

function defaultTimeoutMs(durationSeconds: number | null): number {
  return 10 * 60_000 + (durationSeconds ?? 2 * 3600) * 4_000;
}

/** Shortfall allowed between the probed and the produced duration: max(1 s, 2 %). */
export function durationTolerance(probedSeconds: number): number {
  return Math.max(1, probedSeconds * 0.02);
}

function incompleteError(readSeconds: number, probedSeconds: number, cause?: unknown): MediaError {
  const read = readSeconds.toFixed(1);
  const total = probedSeconds.toFixed(1);
  return new MediaError(
    'incomplete',
    `The video file is incomplete or damaged: only ${read} of ${total} seconds could be read.`,
    { permanent: true, cause, ...(cause instanceof MediaError ? pickLogDetails(cause) : {}) },
  );
}

function pickLogDetails(error: MediaError): { stderrTail?: string; command?: string } {
  const { stderrTail, command } = error.details;
  return {
    ...(stderrTail === undefined ? {} : { stderrTail }),
    ...(command === undefined ? {} : { command }),
  };
}

function storageFailure(cause: unknown): MediaError {
  const permanent = cause instanceof StorageError ? !cause.transient : false;
  return new MediaError('storage', MediaMessage.StoreFailed, { permanent, cause });
}

/** ffprobe chose another plan than the one the MP4 index vouched for: transient, retried without the shortcut. */
function indexDisagreement(probedPlan: MediaPlan): MediaError {
  return new MediaError('ffmpeg_failed', MediaMessage.ConversionFailed, {
    permanent: false,
    cause: new Error(`the MP4 index and ffprobe disagree: ffprobe chose ${JSON.stringify(probedPlan)}`),
  });
}

function unexpectedFailure(cause: unknown): MediaError {
  if (cause instanceof MediaError) return cause;
  return new MediaError('ffmpeg_failed', MediaMessage.ConversionFailed, { permanent: false, cause });
}

/**
 * Turns a source URL into a published HLS stream: probe → choose copy/transcode → ffmpeg reads the URL and
 * writes segments into a per-job temp dir → each segment is uploaded (bounded concurrency) and deleted as soon
 * as ffmpeg lists it → the produced duration is checked against the probe → the VOD playlist is stored last.
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
 *   onSegmentStored: ({ playlistSoFar }) => publishProgressivePlaylist(playlistSoFar),
 * });
 * result.playlistKey; // 'videos/u/v_hls/playlist.m3u8'
 */
export async function generateHls(options: GenerateHlsOptions): Promise<GenerateHlsResult> {
  const { sink, outputPrefix } = options;
  if (!outputPrefix.endsWith('/')) throw new TypeError('outputPrefix must end with "/"');
  const logger = options.logger ?? silentLogger;
  const segmentSeconds = options.segmentSeconds ?? DEFAULT_SEGMENT_SECONDS;
  const concurrency = Math.max(1, options.uploadConcurrency ?? 4);
  const maxPending = Math.max(1, options.maxPendingSegments ?? concurrency * 2);
  const probeTimeoutMs = options.probeTimeoutMs ?? 60_000;
  const startedAt = Date.now();

  const job = createJobAbort(options.signal);
  const { fail, throwIfFailed } = job;

  const workDirs: string[] = [];
  let ffmpeg: MediaProcess | undefined;
  let optimistic: OptimisticCopy | undefined;
  let stopWatching = () => {};
  let scanning: Promise<void> | undefined;
  const inflight = new Set<Promise<void>>();
  let notifications: Promise<void> = Promise.resolve();
  let firstSegmentProbe: Promise<ProbeResult | undefined> | undefined;
  /** Starts the probe that the MP4 index let wait (see below); does nothing otherwise, and the second time. */
  let startDeferredProbe = () => {};
  let deferredProbeTimer: NodeJS.Timeout | undefined;
  /** Settles once a deferred probe has answered and agreed with the plan; never rejects (its failure fails the job). */
  let probeChecked: Promise<void> = Promise.resolve();

  try {
    throwIfFailed();
    const source = await checkSource(options.sourceUrl, { timeoutMs: probeTimeoutMs, signal: job.signal });
    if (source.rangeSupported === false) {
      logger.warn(
        { sizeBytes: source.sizeBytes },
        'hls generation: the source ignores Range; an MP4 with its index at the end will fail',
      );
    }
    throwIfFailed();
    await mkdir(options.tempRoot, { recursive: true });

    let onFfmpegProgress = (_seconds: number): void => {};
    const timeoutFor = (seconds: number | null): number =>
      typeof options.timeoutMs === 'function'
        ? options.timeoutMs(seconds)
        : (options.timeoutMs ?? defaultTimeoutMs(seconds));
    const startRun = (runPlan: MediaPlan, outputDir: string, signal: AbortSignal, limitMs: number) =>
      startFfmpeg({
        bin: options.ffmpegPath ?? 'ffmpeg',
        args: buildHlsArgs({
          input: options.sourceUrl,
          outputDir,
          plan: runPlan,
          segmentSeconds,
          readTimeoutSeconds: options.readTimeoutSeconds ?? DEFAULT_READ_TIMEOUT_SECONDS,
        }),
        timeoutMs: limitMs,
        signal,
        onProgress: (seconds) => onFfmpegProgress(seconds),
      });

    if (options.optimisticCopy !== false && worthOptimisticCopy(source.contentType)) {
      // Its limit is the one for an unknown duration: a copy runs at many times real time, so that is plenty.
      optimistic = await startOptimisticCopy({
        tempRoot: options.tempRoot,
        signal: job.signal,
        start: (runPlan, outputDir, signal) => startRun(runPlan, outputDir, signal, timeoutFor(null)),
        playlistName: HLS_PLAYLIST_NAME,
      });
      workDirs.push(optimistic.dir);
    }
    const runProbe = () =>
      probeMedia(options.sourceUrl, {
        ffprobePath: options.ffprobePath,
        timeoutMs: probeTimeoutMs,
        signal: job.signal,
        readTimeoutSeconds: options.readTimeoutSeconds,
      });
    // For the MP4 family, the track headers of the source's own index are read first (a few ms, whatever the
    // length): when they vouch for the copy plan, ffprobe is not needed before the first segment (decision 0010).
    const indexPlan =
      optimistic === undefined
        ? undefined
        : copyPlanFromIndex(await readMp4Tracks(options.sourceUrl, { signal: job.signal }), options.limits);
    throwIfFailed();

    let probe: ProbeResult | undefined;
    let plan: MediaPlan;
    if (indexPlan) {
      // Usually the plan the optimistic copy runs, which is then adopted; otherwise (audio first, one track only)
      // a copy with the right streams starts at once instead.
      plan = indexPlan;
      // ffprobe starts a while after the first segment is stored (or when its answer is needed, at the end), so
      // that neither its start nor its read of the index competes with the first segment and the viewer's first
      // requests; it then checks the index's verdict.
      startDeferredProbe = () => {
        startDeferredProbe = () => {};
        probeChecked = runProbe()
          .then((result) => {
            probe = result;
            checkMediaLimits(result, options.limits);
            const probedPlan = choosePlan(result);
            logger.info({ plan: probedPlan, probe: result }, 'hls generation: probed source');
            if (!samePlan(probedPlan, plan)) throw indexDisagreement(probedPlan);
          })
          .catch((error: unknown) => fail(unexpectedFailure(error)));
      };
    } else {
      probe = await runProbe();
      throwIfFailed();
      checkMediaLimits(probe, options.limits);
      plan = choosePlan(probe);
    }
    const probedSeconds = () => probe?.durationSeconds ?? null;
    const adopted = await optimistic?.adopt(plan);
    const optimisticOutcome = optimistic ? (adopted ? 'adopted' : 'discarded') : 'not tried';
    optimistic = undefined;
    logger.info(
      {
        plan,
        planFrom: indexPlan ? 'mp4 index' : 'ffprobe',
        ...(probe ? { probe } : {}),
        optimisticCopy: optimisticOutcome,
      },
      'hls generation: plan chosen',
    );

    let dir: string;
    if (adopted) {
      ffmpeg = adopted.process;
      dir = adopted.dir;
    } else {
      dir = await mkdtemp(join(options.tempRoot, 'hls-'));
      workDirs.push(dir);
    }
    throwIfFailed();

    // ---- segment bookkeeping -------------------------------------------------------------------------------
    const segments: HlsSegment[] = []; // as listed by ffmpeg, index = position
    const stored: boolean[] = [];
    const sizes: number[] = [];
    const queue: number[] = [];
    let uploading = 0;
    let uploadedCount = 0;
    let announced = 0;
    let storedSeconds = 0;
    let encodedSeconds = 0;
    let paused = false;

    const report = (fraction: number) => {
      try {
        options.onProgress?.({ fraction, storedSegments: announced, encodedSeconds });
      } catch (error) {
        logger.warn({ err: error }, 'hls generation: onProgress failed');
      }
    };
    const storedFraction = () => {
      const probed = probedSeconds();
      return probed === null || probed <= 0 ? 0 : Math.min(0.99, Math.max(0, storedSeconds / probed));
    };

    const updateBackpressure = () => {
      const pending = segments.length - uploadedCount;
      if (!paused && pending >= maxPending && !job.signal.aborted) {
        paused = ffmpeg?.pause() ?? false;
      } else if (paused && pending <= Math.floor(maxPending / 2)) {
        ffmpeg?.resume();
        paused = false;
      }
    };

    const announce = () => {
      while (!job.signal.aborted && announced < segments.length && stored[announced]) {
        const index = announced;
        const segment = segments[index];
        if (!segment) break;
        announced += 1;
        storedSeconds += segment.durationSeconds;
        if (index === 0) {
          deferredProbeTimer = setTimeout(() => startDeferredProbe(), DEFERRED_PROBE_DELAY_MS);
        }
        const onSegmentStored = options.onSegmentStored;
        if (onSegmentStored) {
          const event: SegmentStored = {
            index,
            uri: segment.uri,
            durationSeconds: segment.durationSeconds,
            playlistSoFar: buildHlsPlaylist({
              type: 'event',
              segments: segments.slice(0, index + 1),
              minTargetDurationSeconds: segmentSeconds,
            }),
          };
          notifications = notifications
            .then(() => onSegmentStored(event))
            .catch((error: unknown) =>
              logger.warn({ err: error, index }, 'hls generation: onSegmentStored failed'),
            );
        }
        report(storedFraction());
      }
    };

    /**
     * Probes a hard link of the first transcoded segment, to learn the profile and level x264 chose, while the
     * segment itself is uploaded and deleted. Resolves `undefined` (logged) when that fails; removes the link.
     */
    const probeLinkedSegment = async (copy: string): Promise<ProbeResult | undefined> => {
      try {
        return await probeMedia(copy, {
          ffprobePath: options.ffprobePath,
          timeoutMs: probeTimeoutMs,
          signal: job.signal,
        });
      } catch (error) {
        if (!job.signal.aborted)
          logger.warn({ err: error }, 'hls generation: could not probe the first segment');
        return undefined;
      } finally {
        await rm(copy, { force: true });
      }
    };

    const uploadSegment = async (index: number): Promise<void> => {
      const file = join(dir, segmentFileName(index));
      const { size } = await stat(file);
      if (index === 0 && plan.video === StreamAction.Transcode) {
        const copy = join(dir, FIRST_SEGMENT_PROBE_FILE);
        try {
          await link(file, copy);
          firstSegmentProbe = probeLinkedSegment(copy);
        } catch (error) {
          logger.warn({ err: error }, 'hls generation: could not keep the first segment for probing');
        }
      }
      try {
        await sink.putFile(outputPrefix + segmentFileName(index), file, {
          contentType: SEGMENT_CONTENT_TYPE,
          finalFile: true,
          signal: job.signal,
        });
      } catch (error) {
        throw job.signal.aborted && job.firstError ? job.firstError : storageFailure(error);
      }
      sizes[index] = size;
      await unlink(file);
    };

    const pump = () => {
      while (!job.signal.aborted && uploading < concurrency && queue.length > 0) {
        const index = queue.shift() as number;
        uploading += 1;
        const upload: Promise<void> = uploadSegment(index)
          .then(() => {
            uploadedCount += 1;
            stored[index] = true;
            announce();
          })
          .catch((error: unknown) => fail(error instanceof MediaError ? error : unexpectedFailure(error)))
          .finally(() => {
            uploading -= 1;
            inflight.delete(upload);
            updateBackpressure();
            pump();
          });
        inflight.add(upload);
      }
    };

    /** Reads ffmpeg's playlist; every segment it lists is complete (segments and playlist are renamed into place). */
    const scan = async (): Promise<void> => {
      let text: string;
      try {
        text = await readFile(join(dir, HLS_PLAYLIST_NAME), 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw error;
      }
      // ffmpeg rewrites the whole playlist after every segment: parse only what follows the last segment already
      // taken, so an hour's scans cost what its lines do, not the square of them.
      const last = segments.at(-1);
      const marker = last === undefined ? '' : `\n${last.uri}\n`;
      const at = marker === '' ? -1 : text.lastIndexOf(marker);
      const listed =
        at < 0
          ? parseHlsPlaylist(text).segments.slice(segments.length)
          : parseHlsPlaylist(text.slice(at + marker.length)).segments;
      for (const segment of listed) {
        const index = segments.length;
        if (parseSegmentIndex(segment.uri) !== index) {
          throw new MediaError('ffmpeg_failed', MediaMessage.ConversionFailed, {
            permanent: false,
            cause: new Error(`unexpected segment "${segment.uri}" at position ${index}`),
          });
        }
        segments.push(segment);
        queue.push(index);
      }
      updateBackpressure();
      pump();
    };

    // Scans run one at a time; a request during a scan runs one more afterwards.
    let rescan = false;
    const requestScan = (): void => {
      if (scanning) {
        rescan = true;
        return;
      }
      scanning = (async () => {
        do {
          rescan = false;
          await scan();
        } while (rescan && !job.signal.aborted);
      })()
        .catch((error: unknown) => fail(unexpectedFailure(error)))
        .finally(() => {
          scanning = undefined;
        });
    };

    // ---- run ffmpeg (or keep the adopted optimistic copy) -------------------------------------------------------
    onFfmpegProgress = (seconds) => {
      // A duration the source did not state up front (WebM written live), or one its index understated.
      const limits = options.limits;
      if (limits && seconds > limits.maxDurationSeconds + 1) fail(durationLimitError(seconds, limits));
      encodedSeconds = seconds;
      report(storedFraction());
    };
    ffmpeg ??= startRun(plan, dir, job.signal, timeoutFor(probedSeconds()));
    const interval = setInterval(requestScan, POLL_INTERVAL_MS);
    let watcher: FSWatcher | undefined;
    try {
      // The playlist is renamed into place when complete; its temp file's events mean nothing yet.
      watcher = watch(dir, (_event, name) => {
        if (name === null || String(name) === HLS_PLAYLIST_NAME) requestScan();
      });
      watcher.on('error', () => undefined);
    } catch {
      // Polling alone is enough; events only make the reaction faster.
    }
    stopWatching = () => {
      clearInterval(interval);
      watcher?.close();
    };

    try {
      await ffmpeg.result;
    } catch (error) {
      if (job.firstError) throw job.firstError;
      startDeferredProbe();
      await probeChecked;
      const probed = probedSeconds();
      if (error instanceof MediaError && error.code === 'incomplete' && probed !== null) {
        // -xerror stopped at the first corrupt packet: say how far it got.
        const listed = await readFile(join(dir, HLS_PLAYLIST_NAME), 'utf8').catch(() => '');
        const readSeconds = Math.max(encodedSeconds, playlistDuration(parseHlsPlaylist(listed).segments));
        throw incompleteError(readSeconds, probed, error);
      }
      throw error;
    }
    stopWatching();
    await scanning;
    await scan();

    // ---- upload what is left, then verify ---------------------------------------------------------------------
    while (queue.length > 0 || inflight.size > 0) {
      throwIfFailed();
      if (inflight.size === 0) pump();
      if (inflight.size === 0) throw unexpectedFailure(new Error('segment uploads did not start'));
      await Promise.race(inflight);
    }
    throwIfFailed();
    await notifications;
    startDeferredProbe();
    await probeChecked;
    throwIfFailed();
    if (!probe) throw unexpectedFailure(new Error('the probe did not answer'));
    const probed = probe.durationSeconds;

    const durationSeconds = playlistDuration(segments);
    if (probed !== null && durationSeconds < probed - durationTolerance(probed)) {
      throw incompleteError(durationSeconds, probed);
    }
    if (segments.length === 0) {
      throw new MediaError('incomplete', MediaMessage.Damaged, { permanent: true });
    }
    const output = describeOutput(probe, plan, await firstSegmentProbe);
    throwIfFailed();
    const { bandwidth, averageBandwidth } = measureBandwidth(
      segments.map((segment, index) => ({
        bytes: sizes[index] ?? 0,
        durationSeconds: segment.durationSeconds,
      })),
      {
        targetDurationSeconds: targetDurationOf(
          segments.map((segment) => segment.durationSeconds),
          segmentSeconds,
        ),
      },
    );

    const playlistKey = outputPrefix + HLS_PLAYLIST_NAME;
    try {
      await sink.putObject(
        playlistKey,
        buildHlsPlaylist({ type: 'vod', segments, minTargetDurationSeconds: segmentSeconds }),
        { contentType: PLAYLIST_CONTENT_TYPE, signal: job.signal },
      );
    } catch (error) {
      throw job.firstError ?? storageFailure(error);
    }
    throwIfFailed();
    report(1);
    logger.info(
      {
        durationSeconds,
        probedDurationSeconds: probed,
        segmentCount: segments.length,
        mode: plan.mode,
        bandwidth,
        codecs: output.codecs,
        ms: Date.now() - startedAt,
      },
      'hls generation: done',
    );
    return {
      playlistKey,
      durationSeconds,
      probedDurationSeconds: probed,
      segmentCount: segments.length,
      mode: plan.mode,
      probe,
      plan,
      bandwidth,
      averageBandwidth,
      ...output,
    };
  } catch (caught) {
    let error = job.firstError ?? unexpectedFailure(caught);
    fail(error);
    if (options.classifyFailure && error.code !== 'aborted') {
      const original = error;
      error = await Promise.resolve(options.classifyFailure(original)).catch(() => original);
    }
    stopWatching();
    await ffmpeg?.result.catch(() => undefined);
    await optimistic?.discard();
    await probeChecked;
    await scanning;
    await Promise.allSettled([...inflight]);
    await notifications;
    await firstSegmentProbe;
    try {
      await sink.deletePrefix(outputPrefix);
    } catch (cleanupError) {
      logger.error({ err: cleanupError, outputPrefix }, 'hls generation: could not delete partial output');
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
    throw error;
  } finally {
    clearTimeout(deferredProbeTimer);
    job.dispose();
    await Promise.all(workDirs.map((dir) => rm(dir, { recursive: true, force: true })));
  }
}
