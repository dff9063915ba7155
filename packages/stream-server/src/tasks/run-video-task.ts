import type { Logger } from 'pino';

import type { Config } from '../config/load-config.js';
import type { Db } from '../db/create-database.js';
import { jobTimeoutMs } from '../jobs/job-timeout.js';
import { HlsStatus, TaskKind, type VideoRow } from '../db/schema.js';
import { generateRendition } from '../media/generate-rendition.js';
import { generateThumbnails } from '../media/generate-thumbnails.js';
import { parseHlsPlaylist } from '../media/hls-playlist.js';
import { MediaError } from '../media/media-error.js';
import type { ProcessLauncher } from '../media/process-launcher.js';
import type { ProbeResult } from '../media/probe-media.js';
import type { Storage } from '../storage/storage.js';
import { MAX_PRESIGN_SECONDS } from '../storage/storage.js';
import { readLocation } from '../storage/read-location.js';
import { storageKeys } from '../media/hls-layout.js';
import { toVideoJson } from '../videos/video-json.js';
import { findVideo } from '../videos/videos-repository.js';
import { WebhookEventType } from '../webhooks/events/event-types.js';
import type { WebhookEvents } from '../webhooks/events/publish-event.js';
import {
  completeTask,
  dropTask,
  setVideoThumbnails,
  type ClaimedTask,
  type RenditionResult,
} from './video-tasks-repository.js';

export interface VideoTaskContext {
  db: Db;
  storage: Storage;
  config: Pick<Config, 'worker' | 'media'>;
  /** A folder of this process's own; each task makes its own subfolder and removes it. */
  tempRoot: string;
  /** Starts the task's ffmpeg and ffprobe. */
  launcher: ProcessLauncher;
  /** Announces each finished rendition (`video.rendition.ready`). */
  events: WebhookEvents;
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
    case TaskKind.Rendition:
      return runRendition(claim, video, ctx);
    default:
      throw new Error(`Unknown task kind "${String(task.kind)}".`);
  }
}

/**
 * Poster and storyboard (docs/decisions/0008-posters-and-storyboards.md): a storyboard that cannot be made is left
 * out, but a video with a picture is not left without a poster silently: the task fails with the reason (logged,
 * retried with backoff, then recorded as the task's error).
 */
async function runThumbnails(
  claim: ClaimedTask,
  video: VideoRow,
  ctx: VideoTaskContext,
): Promise<TaskOutcome> {
  const durationSeconds = video.duration_seconds ?? 0;
  const sourceUrl = await readLocation(ctx.storage, video.source_key, {
    expiresInSeconds: MAX_PRESIGN_SECONDS,
  });
  const outputPrefix = taskPrefix(
    storageKeys.hlsPrefix(video.owner_id, video.id),
    'thumbnails',
    claim.task.id,
  );
  return storeThenApply(claim, ctx, outputPrefix, async () => {
    let posterFailure: unknown;
    const thumbnails = await generateThumbnails({
      sourceUrl,
      outputPrefix,
      durationSeconds,
      sink: ctx.storage,
      tempRoot: ctx.tempRoot,
      launcher: ctx.launcher,
      ffmpegPath: ctx.config.media.ffmpegPath,
      timeoutMs: jobTimeoutMs(ctx.config.worker, durationSeconds),
      signal: ctx.signal,
      logger: ctx.log,
      onFailure: (part, error) => {
        if (part === 'poster') posterFailure = error;
      },
    });
    ctx.signal.throwIfAborted();
    if (thumbnails.posterKey === null) {
      const reason =
        posterFailure instanceof Error ? posterFailure.message.split('\n')[0] : 'no poster was written';
      throw new MediaError('ffmpeg_failed', `The poster could not be made: ${reason}`, {
        permanent: false,
        cause: posterFailure,
      });
    }
    // The task first: it is only ours to apply while we hold it and its run is current. Either way nothing points
    // at the folder once `false` comes back (a done task of an ended run is dropped with it).
    return ctx.db
      .transaction()
      .execute(
        async (trx) =>
          (await completeTask(trx, claim, thumbnails)) &&
          setVideoThumbnails(trx, { id: video.id, runId: claim.task.hls_run_id }, thumbnails),
      );
  });
}

/**
 * Runs `work`, which stores into `outputPrefix` (a folder of this task's own) and then applies its result, `false`
 * when the task's run ended meanwhile. Whatever happens to the video, what the task stored can then be removed
 * without touching anything else: on a failure (before a retry) and when the run is over (the task is dropped).
 */
async function storeThenApply(
  claim: ClaimedTask,
  ctx: VideoTaskContext,
  outputPrefix: string,
  work: () => Promise<boolean>,
): Promise<TaskOutcome> {
  let applied = false;
  try {
    applied = await work();
  } finally {
    if (!applied) await ctx.storage.deletePrefix(outputPrefix).catch(() => {});
  }
  if (applied) return 'done';
  await dropTask(ctx.db, claim.task.id);
  return 'dropped';
}

/** A task's own folder beside the source rendition, e.g. `…_hls/360p-1a2b3c4d/` or `…_hls/thumbnails-1a2b3c4d/`. */
function taskPrefix(hlsPrefix: string, name: string, taskId: string): string {
  return `${hlsPrefix}${name}-${taskId.slice(0, 8)}/`;
}

/**
 * One lower rung of the ladder, made from the original source with keyframes at the source rendition's segment
 * boundaries (docs/decisions/0009-work-after-ready.md). Its attributes become the task's result, which is what
 * the master playlist lists; a run that is over meanwhile gets its rung deleted instead.
 */
async function runRendition(
  claim: ClaimedTask,
  video: VideoRow,
  ctx: VideoTaskContext,
): Promise<TaskOutcome> {
  const { height } = JSON.parse(claim.task.params) as { height: number };
  if (!video.hls_playlist_key || !video.media_info) {
    throw new MediaError('invalid_input', 'The source rendition is missing; the ladder cannot be made.', {
      permanent: true,
    });
  }
  const sourcePlaylist = parseHlsPlaylist(await ctx.storage.getObjectText(video.hls_playlist_key));
  const source = (
    typeof video.media_info === 'string' ? JSON.parse(video.media_info) : video.media_info
  ) as ProbeResult;
  const outputPrefix = taskPrefix(
    storageKeys.hlsPrefix(video.owner_id, video.id),
    `${height}p`,
    claim.task.id,
  );
  const durationSeconds = video.duration_seconds ?? 0;
  return storeThenApply(claim, ctx, outputPrefix, async () => {
    const rung = await generateRendition({
      sourceUrl: await readLocation(ctx.storage, video.source_key, { expiresInSeconds: MAX_PRESIGN_SECONDS }),
      outputPrefix,
      height,
      segmentDurations: sourcePlaylist.segments.map((segment) => segment.durationSeconds),
      source,
      sink: ctx.storage,
      tempRoot: ctx.tempRoot,
      launcher: ctx.launcher,
      ffmpegPath: ctx.config.media.ffmpegPath,
      ffprobePath: ctx.config.media.ffprobePath,
      uploadConcurrency: ctx.config.media.uploadConcurrency,
      // A rung is a full encode: allow twice a generation's time.
      timeoutMs: jobTimeoutMs(ctx.config.worker, durationSeconds, 2),
      signal: ctx.signal,
      logger: ctx.log,
    });
    const result: RenditionResult = {
      playlistKey: rung.playlistKey,
      bandwidth: rung.bandwidth,
      averageBandwidth: rung.averageBandwidth,
      width: rung.width,
      height: rung.height,
      codecs: rung.codecs,
      frameRate: rung.frameRate,
    };
    // The rung and its event go together: a rung of an ended run is neither recorded nor announced.
    const applied = await ctx.db.transaction().execute(async (trx) => {
      if (!(await completeTask(trx, claim, result))) return false;
      await ctx.events.publish(trx, WebhookEventType.RenditionReady, {
        video: toVideoJson(video),
        rendition: {
          height: result.height,
          width: result.width,
          bandwidth: result.bandwidth,
          codecs: result.codecs,
        },
      });
      return true;
    });
    if (applied) ctx.events.wake();
    return applied;
  });
}
