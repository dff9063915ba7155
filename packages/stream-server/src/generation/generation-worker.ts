import { randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';

import type { Logger } from 'pino';

import type { Config } from '../config/load-config.js';
import type { Db } from '../db/create-database.js';
import { generateHls } from '../media/generate-hls.js';
import { MediaError, MediaErrorCode } from '../media/media-error.js';
import type { Storage } from '../storage/storage.js';
import { MAX_PRESIGN_SECONDS } from '../storage/storage.js';
import { storageKeys } from '../videos/video-json.js';
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

export interface GenerationWorkerDeps {
  db: Db;
  storage: Storage;
  config: Pick<Config, 'worker' | 'media' | 'dataDir'>;
  logger: Logger;
  /** Defaults to `<hostname>:<pid>:<random>`. */
  workerId?: string;
}

export interface GenerationWorker {
  readonly workerId: string;
  start(): void;
  /** Wakes idle slots so a job queued by this process starts at once rather than at the next poll. */
  notify(): void;
  /**
   * Stops claiming, aborts running jobs and hands them back (lease released, so another worker takes them over at
   * once), then resolves.
   */
  stop(): Promise<void>;
  /** How many jobs this worker is running now. */
  readonly running: number;
}

/**
 * Runs HLS generation jobs. The job is the video row itself: `hls_status = 'generating'` plus a lease
 * (`hls_lease_owner`, `hls_lease_expires_at`) that the worker renews while it works. A worker that dies stops
 * renewing; once the lease expires any worker claims the job again. See docs/decisions/0003-jobs-as-leased-rows.md.
 */
export function createGenerationWorker(deps: GenerationWorkerDeps): GenerationWorker {
  const { config, logger } = deps;
  const workerId = deps.workerId ?? `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const tempRoot = path.join(config.dataDir, 'tmp', 'generation');
  let stopping = false;
  let started = false;
  const wakers = new Set<() => void>();
  const runningJobs = new Map<string, AbortController>();
  const loops: Array<Promise<void>> = [];

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wakers.delete(done);
        resolve();
      }
      wakers.add(done);
    });

  const runSlot = async () => {
    while (!stopping) {
      let job: ClaimedJob | undefined;
      try {
        job = await claimNextGeneration(deps.db, workerId, config.worker.leaseSeconds);
      } catch (error) {
        if (!stopping) logger.error({ err: error }, 'claiming a generation job failed');
      }
      if (stopping) {
        if (job) await releaseGeneration(deps.db, { id: job.video.id, runId: job.runId, workerId }, 0).catch(() => {});
        break;
      }
      if (!job) {
        await sleep(config.worker.pollMs);
        continue;
      }
      await runJob(job);
    }
  };

  const runJob = async (job: ClaimedJob) => {
    const video = job.video;
    const ref = { id: video.id, runId: job.runId, workerId };
    const log = logger.child({ videoId: video.id, runId: job.runId, attempt: job.attempt });
    const controller = new AbortController();
    runningJobs.set(video.id, controller);
    let progress = 0;
    let leaseLost = false;
    const heartbeat = setInterval(
      () => {
        renewGenerationLease(deps.db, ref, config.worker.leaseSeconds, progress)
          .then((ours) => {
            if (!ours) {
              leaseLost = true;
              controller.abort(new Error('lease lost'));
            }
          })
          .catch((error: unknown) => log.warn({ err: error }, 'renewing the job lease failed'));
      },
      Math.max(1000, (config.worker.leaseSeconds * 1000) / 3),
    );
    const started = performance.now();
    const live = createLivePublisher((playlist) => publishLivePlaylist(deps.db, ref, playlist, progress), log);
    const outputPrefix = storageKeys.hlsPrefix(video.owner_id, video.id);
    log.info({ sourceKey: video.source_key }, 'generation started');
    try {
      const source = await deps.storage.headObject(video.source_key);
      if (!source) {
        throw new MediaError(MediaErrorCode.InvalidInput, 'The source file is missing from storage.', { permanent: true });
      }
      if (source.size === 0) {
        throw new MediaError(MediaErrorCode.InvalidInput, 'The uploaded file is empty.', { permanent: true });
      }
      // A previous attempt may have died half-way: start from an empty prefix.
      await deps.storage.deletePrefix(outputPrefix);
      const sourceUrl = await deps.storage.presignGet(video.source_key, { expiresInSeconds: MAX_PRESIGN_SECONDS });
      const result = await generateHls({
        sourceUrl,
        outputPrefix,
        sink: deps.storage,
        tempRoot,
        segmentSeconds: config.media.segmentSeconds,
        ffmpegPath: config.media.ffmpegPath,
        ffprobePath: config.media.ffprobePath,
        uploadConcurrency: config.media.uploadConcurrency,
        timeoutMs: (probedSeconds: number | null) =>
          (config.worker.timeoutBaseSeconds + (probedSeconds ?? 3600) * config.worker.timeoutPerMediaSecond) * 1000,
        signal: controller.signal,
        onProgress: (p) => {
          progress = Math.min(0.99, p.fraction);
        },
        onSegmentStored: (segment) => live.publish(segment.playlistSoFar),
        logger: log,
      });
      await live.flush();
      const done = await completeGeneration(deps.db, ref, {
        playlistKey: result.playlistKey,
        durationSeconds: result.durationSeconds,
        mode: result.mode,
        mediaInfo: result.probe,
      });
      if (!done) {
        log.warn('generation finished but the job is no longer ours (video deleted or reset)');
        const current = await findVideo(deps.db, video.id);
        if (!current || current.hls_run_id !== job.runId) await deps.storage.deletePrefix(outputPrefix).catch(() => {});
        return;
      }
      log.info(
        { mode: result.mode, durationSeconds: result.durationSeconds, segments: result.segmentCount, ms: Math.round(performance.now() - started) },
        'generation succeeded',
      );
    } catch (error) {
      await handleFailure(job, ref, error, { stopping, leaseLost, log });
    } finally {
      live.stop();
      clearInterval(heartbeat);
      runningJobs.delete(video.id);
    }
  };

  const handleFailure = async (
    job: ClaimedJob,
    ref: { id: string; runId: string; workerId: string },
    error: unknown,
    state: { stopping: boolean; leaseLost: boolean; log: Logger },
  ) => {
    const { log } = state;
    const media = error instanceof MediaError ? error : undefined;
    if (media?.code === MediaErrorCode.Aborted || state.stopping || state.leaseLost) {
      if (state.leaseLost) {
        log.warn('generation stopped: the job lease was lost');
        return;
      }
      log.info('generation interrupted by shutdown; job released for another worker');
      await releaseGeneration(deps.db, ref, 0).catch(() => {});
      return;
    }
    // Raw ffmpeg output goes to the logs only; the user sees the readable message.
    log.error(
      { err: error, code: media?.code, stderrTail: media?.details.stderrTail, command: media?.details.command },
      'generation attempt failed',
    );
    const permanent = media ? media.permanent : false;
    if (permanent || job.attempt >= config.worker.maxAttempts) {
      const message = media
        ? media.message
        : `The video could not be prepared after ${job.attempt} attempts; try again later.`;
      await failGeneration(deps.db, ref, message).catch((e: unknown) => log.error({ err: e }, 'recording failure failed'));
      return;
    }
    const delay = backoffSeconds(job.attempt);
    log.warn({ retryInSeconds: delay }, 'transient failure; generation will be retried');
    await releaseGeneration(deps.db, ref, delay).catch(() => {});
  };

  return {
    workerId,
    get running() {
      return runningJobs.size;
    },
    start() {
      if (started) return;
      started = true;
      for (let i = 0; i < config.worker.concurrency; i += 1) loops.push(runSlot());
    },
    notify() {
      for (const wake of [...wakers]) wake();
    },
    async stop() {
      stopping = true;
      for (const wake of [...wakers]) wake();
      for (const controller of runningJobs.values()) controller.abort(new Error('shutdown'));
      await Promise.all(loops);
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

/** Exponential backoff with full jitter: ~2, 4, 8 … seconds, capped at 5 minutes. */
export function backoffSeconds(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(300, 2 ** Math.max(1, attempt));
  return Math.max(1, Math.round(ceiling / 2 + random() * (ceiling / 2)));
}
