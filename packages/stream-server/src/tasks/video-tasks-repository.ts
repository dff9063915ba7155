import { randomUUID } from 'node:crypto';

import { sql } from 'kysely';

import type { Db } from '../db/create-database.js';
import { createLeasedQueue } from '../jobs/leased-queue.js';
import type { VariantAttributes } from '../videos/master-playlist.js';
import { HlsStatus, TaskKind, TaskStatus, type VideoRow, type VideoTaskRow } from '../db/schema.js';

// Data access for video_tasks: work done for a ready video (poster and storyboard, lower renditions), leased like
// generation jobs (docs/decisions/0009-work-after-ready.md). Plain functions taking `db` (or a transaction).

/** What a rendition task produced; stored as the task's `result` JSON and read by the master playlist. */
export interface RenditionResult extends VariantAttributes {
  playlistKey: string;
  width: number;
  height: number;
}

/** A task as a worker holds it: the row plus the lease that makes it this worker's. */
export interface ClaimedTask {
  /** The task's id. */
  id: string;
  task: VideoTaskRow;
  workerId: string;
}

/**
 * Queues the after-ready work of a generation run (inside the transaction that marks the video ready): a
 * thumbnails task when the video has a picture, and one rendition task per height. Tasks of older runs are dropped.
 */
export async function queueVideoTasks(
  db: Db,
  video: Pick<VideoRow, 'id' | 'hls_run_id'>,
  tasks: { thumbnails: boolean; renditionHeights: readonly number[] },
): Promise<number> {
  if (!video.hls_run_id) return 0;
  await db
    .deleteFrom('video_tasks')
    .where('video_id', '=', video.id)
    .where('hls_run_id', '<>', video.hls_run_id)
    .execute();
  const rows = [
    ...(tasks.thumbnails ? [{ kind: TaskKind.Thumbnails, params: '{}' }] : []),
    ...tasks.renditionHeights.map((height) => ({
      kind: TaskKind.Rendition,
      params: JSON.stringify({ height }),
    })),
  ].map((task) => ({
    id: randomUUID(),
    video_id: video.id,
    hls_run_id: video.hls_run_id as string,
    ...task,
  }));
  if (rows.length === 0) return 0;
  await db.insertInto('video_tasks').values(rows).execute();
  return rows.length;
}

const taskQueue = createLeasedQueue<VideoTaskRow, ClaimedTask>({
  table: 'video_tasks',
  columns: {
    leaseOwner: 'lease_owner',
    leaseExpiresAt: 'lease_expires_at',
    attempts: 'attempts',
    nextAttemptAt: 'next_attempt_at',
  },
  claimable: sql<boolean>`status = ${TaskStatus.Pending}`,
  // Thumbnails before renditions: a poster matters more than a third quality.
  order: sql`case when kind = ${TaskKind.Thumbnails} then 0 else 1 end, created_at`,
  touched: 'updated_at',
  stillOurs: () => sql<boolean>`status = ${TaskStatus.Pending}`,
  // The task's video is still ready from the generation run that queued the task.
  stillWanted: () => sql<boolean>`exists (
    select 1 from videos
    where videos.id = video_tasks.video_id
      and videos.hls_run_id = video_tasks.hls_run_id
      and videos.hls_status = ${HlsStatus.Ready}
  )`,
});

/**
 * Takes the oldest pending task whose lease is free or expired and whose retry time has come, thumbnails before
 * renditions (a poster matters more than a third quality), and leases it to `workerId`.
 */
export async function claimNextTask(
  db: Db,
  workerId: string,
  leaseSeconds: number,
): Promise<ClaimedTask | undefined> {
  const task = await taskQueue.claim(db, workerId, leaseSeconds);
  return task ? { id: task.id, task, workerId } : undefined;
}

/**
 * Extends the lease; `false` means the work is no longer wanted — the lease was lost, or the video was deleted,
 * its HLS reset or regenerated since the task was queued — and the worker stops at once.
 */
export async function renewTaskLease(db: Db, claim: ClaimedTask, leaseSeconds: number): Promise<boolean> {
  return taskQueue.renew(db, claim, leaseSeconds);
}

/**
 * Records the task's result; `false` when it was no longer ours or its run is over (the video deleted, its HLS
 * reset or regenerated since the task was queued): the caller then removes what it made.
 */
export async function completeTask(db: Db, claim: ClaimedTask, result: unknown): Promise<boolean> {
  const row = await taskQueue.complete(db, claim, {
    status: TaskStatus.Done,
    result: JSON.stringify(result ?? null),
    error_message: null,
  });
  return row !== undefined;
}

/** Gives up on the task for good, keeping the reason (the video plays on without what it would have made). */
export async function failTask(db: Db, claim: ClaimedTask, message: string): Promise<void> {
  await taskQueue.fail(db, claim, { status: TaskStatus.Failed, error_message: message });
}

/**
 * Gives the task back to be claimed again after `delaySeconds` (transient failure or shutdown). With
 * `uncountAttempt` the attempt its claim counted is taken back (the failure was an outage, not the task's).
 */
export async function releaseTask(
  db: Db,
  claim: ClaimedTask,
  delaySeconds: number,
  message?: string,
  options: { uncountAttempt?: boolean } = {},
): Promise<void> {
  await taskQueue.release(db, claim, delaySeconds, {
    error_message: message,
    ...(options.uncountAttempt ? { attempts: sql`greatest(attempts - 1, 0)` } : {}),
  });
}

/** Drops a task whose run is over (the video was regenerated, reset or failed since it was queued). */
export async function dropTask(db: Db, taskId: string): Promise<void> {
  await db.deleteFrom('video_tasks').where('id', '=', taskId).execute();
}

/**
 * Applies a thumbnails task's keys to the video, only while the video is still ready from the same run.
 * Returns `false` when the run is over (the caller then removes what it made).
 */
export async function setVideoThumbnails(
  db: Db,
  video: { id: string; runId: string },
  keys: { posterKey: string | null; storyboardKey: string | null },
): Promise<boolean> {
  const result = await db
    .updateTable('videos')
    .set({ poster_key: keys.posterKey, storyboard_key: keys.storyboardKey, updated_at: sql`now()` })
    .where('id', '=', video.id)
    .where('hls_run_id', '=', video.runId)
    .where('hls_status', '=', HlsStatus.Ready)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** The finished renditions of the video's current run, highest first (what the master playlist lists). */
export async function listReadyRenditions(
  db: Db,
  video: Pick<VideoRow, 'id' | 'hls_run_id'>,
): Promise<RenditionResult[]> {
  if (!video.hls_run_id) return [];
  const rows = await db
    .selectFrom('video_tasks')
    .select(['result'])
    .where('video_id', '=', video.id)
    .where('hls_run_id', '=', video.hls_run_id)
    .where('kind', '=', TaskKind.Rendition)
    .where('status', '=', TaskStatus.Done)
    .execute();
  return rows
    .map((row) => (row.result ? (JSON.parse(row.result) as RenditionResult) : undefined))
    .filter((r): r is RenditionResult => r !== undefined)
    .sort((a, b) => b.height - a.height);
}

/** Every task of a video, oldest first. */
export async function listVideoTasks(db: Db, videoId: string): Promise<VideoTaskRow[]> {
  return db
    .selectFrom('video_tasks')
    .selectAll()
    .where('video_id', '=', videoId)
    .orderBy('created_at')
    .execute();
}
