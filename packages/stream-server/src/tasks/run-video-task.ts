import type { Logger } from 'pino';

import type { Config } from '../config/load-config.js';
import type { Db } from '../db/create-database.js';
import { HlsStatus, TaskKind, type VideoRow } from '../db/schema.js';
import { generateThumbnails } from '../media/generate-thumbnails.js';
import type { Storage } from '../storage/storage.js';
import { MAX_PRESIGN_SECONDS } from '../storage/storage.js';
import { storageKeys } from '../videos/video-json.js';
import { findVideo } from '../videos/videos-repository.js';
import { completeTask, dropTask, setVideoThumbnails, type ClaimedTask } from './video-tasks-repository.js';

export interface VideoTaskContext {
  db: Db;
  storage: Storage;
  config: Pick<Config, 'worker' | 'media'>;
  /** A folder of this process's own; each task makes its own subfolder and removes it. */
  tempRoot: string;
  signal: AbortSignal;
  log: Logger;
}

/** What happened to a task: finished, or dropped because its generation run is over. */
export type TaskOutcome = 'done' | 'dropped';

/**
 * Runs one claimed task to its end. Throws on failure (the caller retries with backoff or gives up); a task whose
 * video is gone, regenerated or no longer ready is dropped without doing anything.
 */
export async function runVideoTask(claim: ClaimedTask, ctx: VideoTaskContext): Promise<TaskOutcome> {
  const { task } = claim;
  const video = await findVideo(ctx.db, task.video_id);
  if (!video || video.hls_status !== HlsStatus.Ready || video.hls_run_id !== task.hls_run_id) {
    await dropTask(ctx.db, task.id);
    return 'dropped';
  }
  switch (task.kind) {
    case TaskKind.Thumbnails:
      return runThumbnails(claim, video, ctx);
    default:
      throw new Error(`Unknown task kind "${String(task.kind)}".`);
  }
}

function jobTimeoutMs(config: VideoTaskContext['config'], durationSeconds: number): number {
  return (config.worker.timeoutBaseSeconds + durationSeconds * config.worker.timeoutPerMediaSecond) * 1000;
}

/** Poster and storyboard (docs/decisions/0008-posters-and-storyboards.md): never fails, leaves out what it cannot make. */
async function runThumbnails(claim: ClaimedTask, video: VideoRow, ctx: VideoTaskContext): Promise<TaskOutcome> {
  const durationSeconds = video.duration_seconds ?? 0;
  const sourceUrl = await ctx.storage.presignGet(video.source_key, { expiresInSeconds: MAX_PRESIGN_SECONDS });
  const thumbnails = await generateThumbnails({
    sourceUrl,
    outputPrefix: storageKeys.hlsPrefix(video.owner_id, video.id),
    durationSeconds,
    sink: ctx.storage,
    tempRoot: ctx.tempRoot,
    ffmpegPath: ctx.config.media.ffmpegPath,
    timeoutMs: jobTimeoutMs(ctx.config, durationSeconds),
    signal: ctx.signal,
    logger: ctx.log,
  });
  ctx.signal.throwIfAborted();
  const applied = await ctx.db.transaction().execute(async (trx) => {
    const current = await setVideoThumbnails(trx, { id: video.id, runId: claim.task.hls_run_id }, thumbnails);
    if (current) await completeTask(trx, claim, thumbnails);
    return current;
  });
  if (!applied) {
    // Regenerated or deleted meanwhile: the new run makes its own; its prefix was emptied when it started.
    await dropTask(ctx.db, claim.task.id);
    return 'dropped';
  }
  return 'done';
}
