import type { Logger } from 'pino';

import type { Config } from '../config/load-config.js';
import type { Metrics } from '../observability/metrics.js';
import { WebhookEventType } from '../webhooks/events/event-types.js';
import { createWebhookEvents, type WebhookEvents } from '../webhooks/events/publish-event.js';
import { toVideoJson } from '../videos/video-json.js';
import type { Db } from '../db/create-database.js';
import { DATABASE_RETRY_AFTER_SECONDS, isDatabaseUnavailable } from '../db/database-errors.js';
import { transactionRetriedWhileUnavailable } from '../db/retry-while-unavailable.js';
import { generateHls } from '../media/generate-hls.js';
import type { ProcessLauncher } from '../media/process-launcher.js';
import { StreamAction } from '../media/ffmpeg-args.js';
import type { GenerateHlsResult } from '../media/generate-hls.js';
import { MediaError, MediaErrorCode } from '../media/media-error.js';
import type { Storage } from '../storage/storage.js';
import { isStorageUnreachable, MAX_PRESIGN_SECONDS } from '../storage/storage.js';
import { readLocation } from '../storage/read-location.js';
import { queueVideoTasks } from '../tasks/video-tasks-repository.js';
import type { VariantAttributes } from '../videos/master-playlist.js';
import { storageKeys } from '../media/hls-layout.js';
import { backoffSeconds } from '../jobs/backoff.js';
import type { JobContext, JobHandler, JobSource } from '../jobs/job-runner.js';
import {
  diskFullError,
  diskStatus,
  formatBytes,
  isNoSpaceError,
  TEMP_FULL_BYTES,
  watchLeastFree,
} from './disk-space.js';
import { jobTimeoutMs } from '../jobs/job-timeout.js';
import {
  claimNextGeneration,
  completeGeneration,
  failGeneration,
  findVideo,
  publishLivePlaylist,
  releaseGeneration,
  renewGenerationLease,
  type ClaimedJob,
} from '../videos/videos-repository.js';

export interface GenerationJobsDeps {
  db: Db;
  storage: Storage;
  config: Pick<Config, 'worker' | 'media' | 'dataDir' | 'limits' | 'minFreeDiskBytes'>;
  /** This process's temp folder (see jobs/temp-folders.ts). */
  tempRoot: string;
  /** Starts every ffmpeg and ffprobe of these jobs: the one launcher the server made for its worker. */
  launcher: ProcessLauncher;
  /**
   * Whether a new generation may start now (the worker's process budget has a free process); a first view beyond
   * it stays queued on its row, where `/stream` tells its viewer when to look again.
   */
  hasRoom?: (() => boolean) | undefined;
  metrics?: Metrics | undefined;
  /** Queues `video.hls.ready` / `video.hls.failed` with each outcome; default: registered endpoints only. */
  events?: WebhookEvents | undefined;
  /**
   * Called after a video's playlist is published, or its generation ends as ready or failed, so that `/stream`
   * answers held in this process look again at once.
   */
  onVideoChanged?: ((videoId: string) => void) | undefined;
}

/**
 * HLS generation as a job kind of the job runner (jobs/job-runner.ts). The job is the video row itself:
 * `hls_status = 'generating'` plus a lease (`hls_lease_owner`, `hls_lease_expires_at`) that the runner renews
 * while the work runs, with the progress so far. A worker that dies stops renewing; once the lease expires any
 * worker claims the job again. See docs/decisions/0003-jobs-as-leased-rows.md.
 */
export function createGenerationJobs(deps: GenerationJobsDeps): {
  source: JobSource<ClaimedJob>;
  handler: JobHandler<ClaimedJob>;
} {
  const { config, tempRoot } = deps;
  const events = deps.events ?? createWebhookEvents();
  /** Each running job's progress, written with every lease renewal. */
  const progressOf = new WeakMap<ClaimedJob, number>();

  const source: JobSource<ClaimedJob> = {
    what: 'generation job',
    slots: config.worker.concurrency,
    leaseSeconds: config.worker.leaseSeconds,
    claim: (workerId, leaseSeconds) => claimNextGeneration(deps.db, workerId, leaseSeconds),
    renew: (job, leaseSeconds) => renewGenerationLease(deps.db, job, leaseSeconds, progressOf.get(job)),
    release: (job) => releaseGeneration(deps.db, job, 0),
    kindOf: () => 'generation',
    hasRoom: deps.hasRoom,
  };

  const run = async (job: ClaimedJob, { signal, log }: JobContext) => {
    const video = job.video;
    const ref = job;
    progressOf.set(job, 0);
    const started = performance.now();
    const live = createLivePublisher(async (playlist) => {
      await publishLivePlaylist(deps.db, ref, playlist, progressOf.get(job) ?? 0);
      deps.onVideoChanged?.(video.id);
    }, log);
    const outputPrefix = storageKeys.hlsPrefix(video.owner_id, video.id);
    log.info({ sourceKey: video.source_key }, 'generation started');
    deps.metrics?.generationStarted.inc();
    try {
      const source = await deps.storage.headObject(video.source_key);
      if (!source) {
        throw new MediaError(MediaErrorCode.InvalidInput, 'The source file is missing from storage.', {
          permanent: true,
        });
      }
      if (source.size === 0) {
        throw new MediaError(MediaErrorCode.InvalidInput, 'The uploaded file is empty.', { permanent: true });
      }
      // A full disk is not the video's fault: wait (retried with backoff) rather than fail it on a short output.
      const disk = await diskStatus(config.dataDir, config.minFreeDiskBytes);
      if (disk.low) {
        log.error({ freeBytes: disk.freeBytes, minFreeBytes: config.minFreeDiskBytes }, disk.description);
        throw diskFullError();
      }
      // A previous attempt may have died half-way: start from an empty prefix.
      await deps.storage.deletePrefix(outputPrefix);
      // Local storage: ffmpeg and ffprobe open the source file itself, so that its bytes do not pass through this
      // process's event loop, which the held /stream answers and the database share. S3: a presigned URL.
      const sourceUrl = await readLocation(deps.storage, video.source_key, {
        expiresInSeconds: MAX_PRESIGN_SECONDS,
      });
      // The least free space seen while ffmpeg runs, on the data folder's disk and in the temp folder (see below).
      const dataDisk = watchLeastFree(config.dataDir);
      const tempDisk = watchLeastFree(tempRoot);
      const result = await generateHls({
        sourceUrl,
        sourceContentType: source.contentType,
        outputPrefix,
        sink: deps.storage,
        tempRoot,
        segmentSeconds: config.media.segmentSeconds,
        ffmpegPath: config.media.ffmpegPath,
        ffprobePath: config.media.ffprobePath,
        launcher: deps.launcher,
        uploadConcurrency: config.media.uploadConcurrency,
        limits: config.limits,
        classifyFailure: async (error) => {
          if (isNoSpaceError(error)) {
            log.error({ err: error }, 'disk full: no space left on device during generation');
            return diskFullError(error);
          }
          // ffmpeg exits 0 when it cannot write (a short output): a disk that was low at any moment of the run is
          // the likelier cause, even when the space is free again by now.
          const [dataLeast, tempLeast] = await Promise.all([dataDisk.least(), tempDisk.least()]);
          let full: string | undefined;
          if (config.minFreeDiskBytes > 0 && dataLeast < config.minFreeDiskBytes) {
            full = `disk full: down to ${formatBytes(dataLeast)} free under ${config.dataDir} during generation, below MIN_FREE_DISK_BYTES (${formatBytes(config.minFreeDiskBytes)})`;
          } else if (tempLeast < TEMP_FULL_BYTES) {
            full = `disk full: down to ${formatBytes(tempLeast)} free in the temp folder ${tempRoot} during generation`;
          }
          if (!full) return error;
          log.error({ err: error, freeBytes: Math.min(dataLeast, tempLeast) }, full);
          return diskFullError(error);
        },
        // A retry goes the careful way: probe first, then remux (decision 0010).
        optimisticCopy: job.attempt === 1,
        timeoutMs: (probedSeconds: number | null) => jobTimeoutMs(config.worker, probedSeconds ?? 3600),
        signal,
        onProgress: (p) => {
          progressOf.set(job, Math.min(0.99, p.fraction));
        },
        onSegmentStored: (segment) => live.publish(segment.playlistSoFar),
        logger: log,
      }).finally(() => {
        dataDisk.stop();
        tempDisk.stop();
      });
      await live.flush();
      // The output is stored: an unreachable database delays its publication instead of throwing the work away.
      const done = await transactionRetriedWhileUnavailable(deps.db, {
        signal,
        onWait: (error) =>
          log.warn({ err: error }, 'database unavailable; the finished generation waits for it'),
      }).execute(async (trx) => {
        const row = await completeGeneration(trx, ref, {
          playlistKey: result.playlistKey,
          durationSeconds: result.durationSeconds,
          mode: result.mode,
          mediaInfo: result.probe,
          variant: {
            bandwidth: result.bandwidth,
            averageBandwidth: result.averageBandwidth,
            width: result.width,
            height: result.height,
            codecs: result.codecs,
            frameRate: result.frameRate,
          } satisfies VariantAttributes,
        });
        if (!row) return row;
        // Poster, storyboard and lower renditions come after `ready`, as tasks of their own, so they never hold
        // back the video (docs/decisions/0009-work-after-ready.md).
        await queueVideoTasks(trx, row, afterReadyTasks(result, config.media.renditionHeights));
        await events.publish(trx, WebhookEventType.HlsReady, { video: toVideoJson(row) });
        return row;
      });
      if (!done) {
        log.warn('generation finished but the job is no longer ours (video deleted or reset)');
        const current = await findVideo(deps.db, video.id);
        if (!current || current.hls_run_id !== job.runId)
          await deps.storage.deletePrefix(outputPrefix).catch(() => {});
        return;
      }
      deps.onVideoChanged?.(video.id);
      const seconds = (performance.now() - started) / 1000;
      deps.metrics?.generationSucceeded.inc({ mode: result.mode });
      deps.metrics?.generationDuration.observe({ mode: result.mode }, seconds);
      events.wake();
      log.info(
        {
          mode: result.mode,
          durationSeconds: result.durationSeconds,
          segments: result.segmentCount,
          ms: Math.round(seconds * 1000),
        },
        'generation succeeded',
      );
    } finally {
      live.stop();
    }
  };

  /** A failed attempt: given back at once when it was only interrupted, retried with backoff, or failed for good. */
  const onFailure = async (job: ClaimedJob, error: unknown, { log }: JobContext) => {
    const ref = job;
    const media = error instanceof MediaError ? error : undefined;
    // A bucket out of reach is named first: its network errors (ECONNRESET…) would pass for the database's too.
    const storage = isStorageUnreachable(error);
    const database = !storage && isDatabaseUnavailable(error);
    if (storage || database) {
      // Not the video's fault and not an attempt to count against it: handed back (if the database answers by
      // then; else the lease runs out) to be taken up again once the database or the bucket answers.
      log.warn(
        { err: error, retryInSeconds: DATABASE_RETRY_AFTER_SECONDS },
        `${database ? 'database' : 'storage'} unavailable; generation will be taken up again once it answers (not counted as an attempt)`,
      );
      await releaseGeneration(deps.db, ref, DATABASE_RETRY_AFTER_SECONDS, { uncountAttempt: true }).catch(
        () => {},
      );
      return;
    }
    if (media?.code === MediaErrorCode.Aborted) {
      log.info('generation interrupted; job released for another worker');
      await releaseGeneration(deps.db, ref, 0).catch(() => {});
      return;
    }
    // Raw ffmpeg output goes to the logs only; the user sees the readable message.
    log.error(
      {
        err: error,
        code: media?.code,
        stderrTail: media?.details.stderrTail,
        command: media?.details.command,
      },
      'generation attempt failed',
    );
    deps.metrics?.generationFailed.inc({ reason: media?.code ?? 'unexpected' });
    const permanent = media ? media.permanent : false;
    if (permanent || job.attempt >= config.worker.maxAttempts) {
      const message =
        media && permanent
          ? media.message
          : `${media ? media.message.replace(/\s*It will be tried again\.?$/, '') : 'The video could not be prepared.'} ` +
            `Gave up after ${job.attempt} attempts; retry once storage is healthy.`;
      await deps.db
        .transaction()
        .execute(async (trx) => {
          const row = await failGeneration(trx, ref, message);
          if (row) await events.publish(trx, WebhookEventType.HlsFailed, { video: toVideoJson(row) });
        })
        .then(() => {
          deps.onVideoChanged?.(ref.id);
          events.wake();
        })
        .catch((e: unknown) => log.error({ err: e }, 'recording failure failed'));
      return;
    }
    const delay = backoffSeconds(job.attempt);
    log.warn({ retryInSeconds: delay }, 'transient failure; generation will be retried');
    await releaseGeneration(deps.db, ref, delay).catch(() => {});
  };

  return {
    source,
    handler: {
      describe: (job) => ({ videoId: job.id, runId: job.runId, attempt: job.attempt }),
      run,
      onFailure,
      onLeaseLost: (_job, log) => log.warn('generation stopped: the job lease was lost'),
      onShutdown: (_job, log) =>
        log.info('generation interrupted by shutdown; job released for another worker'),
    },
  };
}

/**
 * Publishes the growing playlist to the database: the first one at once (that is what makes the video playable),
 * later ones at most every `intervalMs`, always the newest, never two writes at the same time.
 */
function createLivePublisher(write: (playlist: string) => Promise<unknown>, log: Logger, intervalMs = 500) {
  let pending: string | undefined;
  let inFlight: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let lastWrite = 0;
  let stopped = false;
  const writeNow = (): Promise<void> => {
    if (inFlight || pending === undefined || stopped) return inFlight ?? Promise.resolve();
    const playlist = pending;
    pending = undefined;
    lastWrite = Date.now();
    inFlight = write(playlist)
      .then(() => undefined)
      .catch((error: unknown) => log.warn({ err: error }, 'publishing the live playlist failed'))
      .finally(() => {
        inFlight = undefined;
        if (pending !== undefined) schedule();
      });
    return inFlight;
  };
  const schedule = () => {
    if (timer || stopped) return;
    const wait = Math.max(0, lastWrite + intervalMs - Date.now());
    timer = setTimeout(() => {
      timer = undefined;
      void writeNow();
    }, wait);
  };
  return {
    publish(playlist: string) {
      pending = playlist;
      if (lastWrite === 0 && !inFlight) void writeNow();
      else schedule();
    },
    async flush() {
      if (timer) clearTimeout(timer);
      timer = undefined;
      await inFlight;
      await writeNow();
    },
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}

/** The after-ready work of a generation: thumbnails for videos with a picture, and each ladder rung below it. */
function afterReadyTasks(result: GenerateHlsResult, ladder: readonly number[]) {
  const sourceHeight = result.height ?? 0;
  const hasPicture = result.plan.video !== StreamAction.None && sourceHeight > 0;
  return {
    thumbnails: hasPicture,
    renditionHeights: hasPicture ? ladder.filter((height) => height < sourceHeight) : [],
  };
}
