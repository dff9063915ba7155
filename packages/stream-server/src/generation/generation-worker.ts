import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import type { Logger } from 'pino';

import type { Config } from '../config/load-config.js';
import type { Metrics } from '../observability/metrics.js';
import { enqueueWebhook, WebhookEvent } from '../webhooks/webhook-events.js';
import type { Db } from '../db/create-database.js';
import { generateHls } from '../media/generate-hls.js';
import { StreamAction } from '../media/ffmpeg-args.js';
import type { GenerateHlsResult } from '../media/generate-hls.js';
import { MediaError, MediaErrorCode } from '../media/media-error.js';
import type { Storage } from '../storage/storage.js';
import { MAX_PRESIGN_SECONDS } from '../storage/storage.js';
import { runVideoTask } from '../tasks/run-video-task.js';
import {
  claimNextTask,
  failTask,
  queueVideoTasks,
  releaseTask,
  renewTaskLease,
  type ClaimedTask,
} from '../tasks/video-tasks-repository.js';
import type { VariantAttributes } from '../videos/master-playlist.js';
import { storageKeys } from '../videos/video-json.js';
import { backoffSeconds } from '../jobs/backoff.js';
import { diskFullError, diskStatus, isNoSpaceError } from './disk-space.js';
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

export interface GenerationWorkerDeps {
  db: Db;
  storage: Storage;
  config: Pick<Config, 'worker' | 'media' | 'dataDir' | 'limits' | 'minFreeDiskBytes'>;
  logger: Logger;
  /** Defaults to `<hostname>:<pid>:<random>`. */
  workerId?: string;
  metrics?: Metrics | undefined;
  /** Queue `video.hls.ready` / `video.hls.failed` deliveries with each outcome (when webhooks are configured). */
  webhooks?: { onQueued(): void } | undefined;
  /**
   * Called after a video's playlist is published, or its generation ends as ready or failed, so that `/stream`
   * answers held in this process look again at once.
   */
  onVideoChanged?: ((videoId: string) => void) | undefined;
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
  // One temp folder per process, named so a later sweep can tell whether its owner is still alive.
  const tempRoot = path.join(tempParent(config.dataDir), `${os.hostname()}-${process.pid}`);
  let stopping = false;
  let started = false;
  const wakers = new Set<() => void>();
  const runningJobs = new Map<string, AbortController>();
  const runningTasks = new Map<string, AbortController>();
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

  /**
   * Renews a lease every third of its length while work runs; when the renewal says the work is no longer ours,
   * aborts it (`lost` then tells the failure path not to record anything).
   */
  const keepLease = (renew: () => Promise<boolean>, controller: AbortController, log: Logger) => {
    const state = { lost: false, stop: () => clearInterval(timer) };
    const timer = setInterval(
      () => {
        renew()
          .then((ours) => {
            if (!ours) {
              state.lost = true;
              controller.abort(new Error('lease lost'));
            }
          })
          .catch((error: unknown) => log.warn({ err: error }, 'renewing a lease failed'));
      },
      Math.max(1000, (config.worker.leaseSeconds * 1000) / 3),
    );
    return state;
  };

  /**
   * One slot: claims work of one kind, runs it, and sleeps a poll interval when there is none. Work claimed just as
   * the worker stops is handed back at once.
   */
  const runSlot = async <T>(slot: {
    what: string;
    claim: () => Promise<T | undefined>;
    release: (claimed: T) => Promise<unknown>;
    run: (claimed: T) => Promise<void>;
  }) => {
    while (!stopping) {
      let claimed: T | undefined;
      try {
        claimed = await slot.claim();
      } catch (error) {
        if (!stopping) logger.error({ err: error }, `claiming a ${slot.what} failed`);
      }
      if (stopping) {
        if (claimed !== undefined) await slot.release(claimed).catch(() => {});
        break;
      }
      if (claimed === undefined) {
        await sleep(config.worker.pollMs);
        continue;
      }
      await slot.run(claimed);
    }
  };

  /** One after-ready task (poster and storyboard, a rendition), leased and retried like a generation job. */
  const runTask = async (claim: ClaimedTask) => {
    const { task } = claim;
    const log = logger.child({
      videoId: task.video_id,
      taskId: task.id,
      task: task.kind,
      attempt: task.attempts,
    });
    const controller = new AbortController();
    runningTasks.set(task.id, controller);
    const lease = keepLease(
      () => renewTaskLease(deps.db, claim, config.worker.leaseSeconds),
      controller,
      log,
    );
    const started = performance.now();
    try {
      const outcome = await runVideoTask(claim, {
        db: deps.db,
        storage: deps.storage,
        config,
        tempRoot,
        signal: controller.signal,
        log,
      });
      log.info({ outcome, ms: Math.round(performance.now() - started) }, 'video task finished');
      deps.metrics?.videoTasks.inc({ kind: task.kind, outcome });
    } catch (error) {
      if (lease.lost) {
        log.warn('video task stopped: its lease was lost, or its video was deleted or regenerated');
      } else if (stopping) {
        await releaseTask(deps.db, claim, 0).catch(() => {});
      } else {
        const message = error instanceof Error ? error.message : String(error);
        const permanent = error instanceof MediaError && error.permanent;
        if (permanent || task.attempts >= config.worker.maxAttempts) {
          log.error({ err: error }, 'video task failed; the video plays on without it');
          deps.metrics?.videoTasks.inc({ kind: task.kind, outcome: 'failed' });
          await failTask(deps.db, claim, message).catch(() => {});
        } else {
          const delay = backoffSeconds(task.attempts);
          log.warn({ err: error, retryInSeconds: delay }, 'video task failed; it will be retried');
          deps.metrics?.videoTasks.inc({ kind: task.kind, outcome: 'retried' });
          await releaseTask(deps.db, claim, delay, message).catch(() => {});
        }
      }
    } finally {
      lease.stop();
      runningTasks.delete(task.id);
    }
  };

  const runJob = async (job: ClaimedJob) => {
    const video = job.video;
    const ref = { id: video.id, runId: job.runId, workerId };
    const log = logger.child({ videoId: video.id, runId: job.runId, attempt: job.attempt });
    const controller = new AbortController();
    runningJobs.set(video.id, controller);
    let progress = 0;
    const lease = keepLease(
      () => renewGenerationLease(deps.db, ref, config.worker.leaseSeconds, progress),
      controller,
      log,
    );
    const started = performance.now();
    const live = createLivePublisher(async (playlist) => {
      await publishLivePlaylist(deps.db, ref, playlist, progress);
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
      const sourceUrl = await deps.storage.presignGet(video.source_key, {
        expiresInSeconds: MAX_PRESIGN_SECONDS,
      });
      const result = await generateHls({
        sourceUrl,
        outputPrefix,
        sink: deps.storage,
        tempRoot,
        segmentSeconds: config.media.segmentSeconds,
        ffmpegPath: config.media.ffmpegPath,
        ffprobePath: config.media.ffprobePath,
        uploadConcurrency: config.media.uploadConcurrency,
        limits: config.limits,
        classifyFailure: async (error) => {
          if (isNoSpaceError(error)) {
            log.error({ err: error }, 'disk full: no space left on device during generation');
            return diskFullError(error);
          }
          // ffmpeg exits 0 when it cannot write (a short output): a low disk now is the likelier cause.
          const now = await diskStatus(config.dataDir, config.minFreeDiskBytes);
          if (!now.low) return error;
          log.error({ err: error, freeBytes: now.freeBytes }, now.description);
          return diskFullError(error);
        },
        // A retry goes the careful way: probe first, then remux (decision 0010).
        optimisticCopy: job.attempt === 1,
        timeoutMs: (probedSeconds: number | null) => jobTimeoutMs(config.worker, probedSeconds ?? 3600),
        signal: controller.signal,
        onProgress: (p) => {
          progress = Math.min(0.99, p.fraction);
        },
        onSegmentStored: (segment) => live.publish(segment.playlistSoFar),
        logger: log,
      });
      await live.flush();
      const done = await deps.db.transaction().execute(async (trx) => {
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
        if (deps.webhooks) await enqueueWebhook(trx, WebhookEvent.HlsReady, row);
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
      deps.webhooks?.onQueued();
      log.info(
        {
          mode: result.mode,
          durationSeconds: result.durationSeconds,
          segments: result.segmentCount,
          ms: Math.round(seconds * 1000),
        },
        'generation succeeded',
      );
    } catch (error) {
      await handleFailure(job, ref, error, { stopping, leaseLost: lease.lost, log });
    } finally {
      live.stop();
      lease.stop();
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
          if (row && deps.webhooks) await enqueueWebhook(trx, WebhookEvent.HlsFailed, row);
        })
        .then(() => {
          deps.onVideoChanged?.(ref.id);
          deps.webhooks?.onQueued();
        })
        .catch((e: unknown) => log.error({ err: e }, 'recording failure failed'));
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
      void removeOrphanedTempDirs(tempParent(config.dataDir), logger);
      for (let i = 0; i < config.worker.concurrency; i += 1) {
        loops.push(
          runSlot<ClaimedJob>({
            what: 'generation job',
            claim: () => claimNextGeneration(deps.db, workerId, config.worker.leaseSeconds),
            release: (job) => releaseGeneration(deps.db, { id: job.video.id, runId: job.runId, workerId }, 0),
            run: runJob,
          }),
        );
      }
      // Separate slots, so a first view never waits behind a rendition of another video.
      for (let i = 0; i < config.worker.taskConcurrency; i += 1) {
        loops.push(
          runSlot<ClaimedTask>({
            what: 'video task',
            claim: () => claimNextTask(deps.db, workerId, config.worker.leaseSeconds),
            release: (claim) => releaseTask(deps.db, claim, 0),
            run: runTask,
          }),
        );
      }
    },
    notify() {
      for (const wake of [...wakers]) wake();
    },
    async stop() {
      stopping = true;
      for (const wake of [...wakers]) wake();
      for (const controller of [...runningJobs.values(), ...runningTasks.values()]) {
        controller.abort(new Error('shutdown'));
      }
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

/** The after-ready work of a generation: thumbnails for videos with a picture, and each ladder rung below it. */
function afterReadyTasks(result: GenerateHlsResult, ladder: readonly number[]) {
  const sourceHeight = result.height ?? 0;
  const hasPicture = result.plan.video !== StreamAction.None && sourceHeight > 0;
  return {
    thumbnails: hasPicture,
    renditionHeights: hasPicture ? ladder.filter((height) => height < sourceHeight) : [],
  };
}

function tempParent(dataDir: string): string {
  return path.join(dataDir, 'tmp', 'generation');
}

/**
 * Removes the temp folders of generation processes on this host that are no longer alive (a worker killed with
 * SIGKILL cannot clean up after itself). Folders are named `<hostname>-<pid>`.
 */
export async function removeOrphanedTempDirs(parent: string, logger: Logger): Promise<number> {
  let names: string[];
  try {
    names = await fs.readdir(parent);
  } catch {
    return 0;
  }
  const host = os.hostname();
  let removed = 0;
  for (const name of names) {
    const match = /^(.*)-(\d+)$/.exec(name);
    if (!match || match[1] !== host) continue;
    const pid = Number(match[2]);
    if (pid === process.pid || isAlive(pid)) continue;
    await fs.rm(path.join(parent, name), { recursive: true, force: true });
    removed += 1;
  }
  if (removed > 0) logger.info({ removed }, 'removed temp folders of dead workers');
  return removed;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
