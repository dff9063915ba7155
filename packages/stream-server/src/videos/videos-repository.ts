import { randomUUID } from 'node:crypto';

import { sql } from 'kysely';

import type { Db } from '../db/create-database.js';
import { createLeasedQueue } from '../jobs/leased-queue.js';
import {
  HlsStatus,
  TaskKind,
  TaskStatus,
  UploadStatus,
  type NewVideoRow,
  type VideoRow,
} from '../db/schema.js';

// Data access for the videos table. Plain functions taking `db` (or a transaction) first.

export async function insertVideo(db: Db, video: NewVideoRow): Promise<VideoRow> {
  return db.insertInto('videos').values(video).returningAll().executeTakeFirstOrThrow();
}

export async function findVideo(db: Db, id: string): Promise<VideoRow | undefined> {
  return db.selectFrom('videos').selectAll().where('id', '=', id).executeTakeFirst();
}

/** A video row with what a ready `/stream` answer needs besides it (see {@link findVideoForStream}). */
export type StreamVideoRow = VideoRow & {
  /** A finished lower rendition of the current run, or a caption track: the answer points at the master. */
  has_master_entries: boolean;
  /** The answer carries `chapters_url`. */
  has_chapters: boolean;
};

/**
 * The video with whether it has master playlist entries and chapters, in one round trip: everything a `/stream`
 * answer for a ready video reads from the database (the hot path; two index lookups ride along with the row).
 *
 * @example
 * const video = await findVideoForStream(db, id); // { ...row, has_master_entries: false, has_chapters: true }
 */
export async function findVideoForStream(db: Db, id: string): Promise<StreamVideoRow | undefined> {
  return db
    .selectFrom('videos')
    .selectAll('videos')
    .select(
      sql<boolean>`(
        exists (
          select 1 from video_tasks
          where video_tasks.video_id = videos.id and video_tasks.hls_run_id = videos.hls_run_id
            and video_tasks.kind = ${TaskKind.Rendition} and video_tasks.status = ${TaskStatus.Done}
        )
        or exists (select 1 from video_captions where video_captions.video_id = videos.id)
      )`.as('has_master_entries'),
    )
    .select(
      sql<boolean>`exists (select 1 from video_chapters where video_chapters.video_id = videos.id)`.as(
        'has_chapters',
      ),
    )
    .where('videos.id', '=', id)
    .executeTakeFirst();
}

/** The video when `ownerId` owns it; `undefined` otherwise (unknown and not-yours look the same). */
export async function findOwnedVideo(db: Db, id: string, ownerId: string): Promise<VideoRow | undefined> {
  return db
    .selectFrom('videos')
    .selectAll()
    .where('id', '=', id)
    .where('owner_id', '=', ownerId)
    .executeTakeFirst();
}

/** The owner's video with this external id, if any. */
export async function findVideoByExternalId(
  db: Db,
  ownerId: string,
  externalId: string,
): Promise<VideoRow | undefined> {
  return db
    .selectFrom('videos')
    .selectAll()
    .where('external_id', '=', externalId)
    .where('owner_id', '=', ownerId)
    .executeTakeFirst();
}

/** A video's host-app details to set; an absent field is left as it is. */
export interface VideoDetailsUpdate {
  title?: string | null;
  /** The JSON text of the new metadata object (replaces the old one). */
  metadataJson?: string;
  externalId?: string | null;
}

/** Sets a video's title, metadata or external id; `undefined` when there is no such video. */
export async function updateVideoDetails(
  db: Db,
  id: string,
  fields: VideoDetailsUpdate,
): Promise<VideoRow | undefined> {
  return db
    .updateTable('videos')
    .set({
      ...(fields.title !== undefined ? { title: fields.title } : {}),
      ...(fields.metadataJson !== undefined ? { metadata: fields.metadataJson } : {}),
      ...(fields.externalId !== undefined ? { external_id: fields.externalId } : {}),
      updated_at: sql`now()`,
    })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
}

/** Whether `error` is the unique violation of one owner's external ids (index `videos_external_id_owner_idx`). */
export function isExternalIdTaken(error: unknown): boolean {
  const { code, constraint, message } = (error ?? {}) as {
    code?: unknown;
    constraint?: unknown;
    message?: unknown;
  };
  return (
    code === '23505' &&
    (constraint === 'videos_external_id_owner_idx' ||
      (typeof message === 'string' && message.includes('videos_external_id_owner_idx')))
  );
}

/** The pending → complete transition of an upload; `undefined` when the video is gone or was already complete. */
export async function markUploadComplete(
  db: Db,
  id: string,
  fields: { sizeBytes: number | null; contentType?: string | null },
): Promise<VideoRow | undefined> {
  return db
    .updateTable('videos')
    .set({
      upload_status: UploadStatus.Complete,
      upload_id: null,
      size_bytes: fields.sizeBytes,
      ...(fields.contentType ? { content_type: fields.contentType } : {}),
      updated_at: sql`now()`,
    })
    .where('id', '=', id)
    .where('upload_status', '=', UploadStatus.Pending)
    .returningAll()
    .executeTakeFirst();
}

/** Points a pending multipart upload at a new storage upload id (after its assembled object was refused). */
export async function replaceUploadId(db: Db, id: string, uploadId: string): Promise<VideoRow | undefined> {
  return db
    .updateTable('videos')
    .set({ upload_id: uploadId, updated_at: sql`now()` })
    .where('id', '=', id)
    .where('upload_status', '=', UploadStatus.Pending)
    .returningAll()
    .executeTakeFirst();
}

export async function deleteVideoRow(db: Db, id: string): Promise<VideoRow | undefined> {
  return db.deleteFrom('videos').where('id', '=', id).returningAll().executeTakeFirst();
}

/**
 * The one atomic transition that starts a generation: never-generated → generating (or failed → generating when
 * `from` includes it). Returns the row when this call made the transition, `undefined` when another caller already
 * did (or the video is not eligible). Fifty simultaneous first views make exactly one transition.
 */
export async function startHlsGeneration(
  db: Db,
  id: string,
  options: { from: ReadonlyArray<'none' | 'failed' | 'ready'> },
): Promise<VideoRow | undefined> {
  const allowed = options.from.filter((s) => s !== 'none') as HlsStatus[];
  return db
    .updateTable('videos')
    .set({
      hls_status: HlsStatus.Generating,
      hls_run_id: randomUUID(),
      hls_requested_at: sql`now()`,
      hls_next_attempt_at: sql`now()`,
      hls_attempts: 0,
      hls_progress: 0,
      hls_live_playlist: null,
      hls_error_message: null,
      hls_generated_at: null,
      hls_lease_owner: null,
      hls_lease_expires_at: null,
      updated_at: sql`now()`,
    })
    .where('id', '=', id)
    .where('upload_status', '=', UploadStatus.Complete)
    .where((eb) => {
      const ors = [];
      if (options.from.includes('none')) ors.push(eb('hls_status', 'is', null));
      if (allowed.length > 0) ors.push(eb('hls_status', 'in', allowed));
      return eb.or(ors);
    })
    .returningAll()
    .executeTakeFirst();
}

/**
 * A generation job as a worker holds it: the video row plus the lease that makes it this worker's. The job *is*
 * the video row (docs/decisions/0003-jobs-as-leased-rows.md), so what a user sees and the job never disagree.
 */
export interface ClaimedJob {
  /** The video's id. */
  id: string;
  workerId: string;
  runId: string;
  attempt: number;
  video: VideoRow;
}

/** A generation job's lease: every write a worker makes is conditioned on its run id and its lease. */
export type GenerationRef = { id: string; runId: string; workerId: string };

const generationQueue = createLeasedQueue<VideoRow, GenerationRef>({
  table: 'videos',
  columns: {
    leaseOwner: 'hls_lease_owner',
    leaseExpiresAt: 'hls_lease_expires_at',
    attempts: 'hls_attempts',
    nextAttemptAt: 'hls_next_attempt_at',
  },
  claimable: sql<boolean>`hls_status = ${HlsStatus.Generating}`,
  order: sql`hls_requested_at`,
  // A new attempt starts from an empty live playlist.
  onClaim: { hls_live_playlist: null },
  touched: 'updated_at',
  stillOurs: (job) => sql<boolean>`hls_run_id = ${job.runId} and hls_status = ${HlsStatus.Generating}`,
});

/**
 * Takes the oldest generating video whose lease is free or expired and whose retry time has come, and leases it to
 * `workerId`. `FOR UPDATE SKIP LOCKED` lets many workers claim concurrently without ever sharing a job.
 */
export async function claimNextGeneration(
  db: Db,
  workerId: string,
  leaseSeconds: number,
): Promise<ClaimedJob | undefined> {
  const video = await generationQueue.claim(db, workerId, leaseSeconds);
  if (!video || !video.hls_run_id) return undefined;
  return { id: video.id, workerId, runId: video.hls_run_id, attempt: video.hls_attempts, video };
}

/** Extends the lease; `false` means the job is no longer ours (lease lost, video deleted or reset): stop work. */
export async function renewGenerationLease(
  db: Db,
  job: GenerationRef,
  leaseSeconds: number,
  progress?: number,
): Promise<boolean> {
  return generationQueue.renew(db, job, leaseSeconds, { hls_progress: progress });
}

export async function completeGeneration(
  db: Db,
  job: GenerationRef,
  fields: {
    playlistKey: string;
    durationSeconds: number;
    mode: string;
    mediaInfo: unknown;
    /** The source rendition's line in a master playlist (measured bandwidth, resolution, codecs). */
    variant: unknown;
  },
): Promise<VideoRow | undefined> {
  return generationQueue.complete(db, job, {
    hls_status: HlsStatus.Ready,
    hls_playlist_key: fields.playlistKey,
    // Made afterwards by a thumbnails task (src/tasks/), never by an older run.
    poster_key: null,
    storyboard_key: null,
    hls_generated_at: sql`now()`,
    hls_progress: 1,
    hls_live_playlist: null,
    hls_mode: fields.mode,
    hls_error_message: null,
    duration_seconds: fields.durationSeconds,
    media_info: JSON.stringify(fields.mediaInfo),
    hls_variant: JSON.stringify(fields.variant),
  });
}

export async function failGeneration(
  db: Db,
  job: GenerationRef,
  errorMessage: string,
): Promise<VideoRow | undefined> {
  return generationQueue.fail(db, job, {
    hls_status: HlsStatus.Failed,
    hls_error_message: errorMessage,
    hls_progress: null,
    hls_live_playlist: null,
  });
}

/** Publishes the playlist of the segments stored so far, so viewers can start before generation ends. */
export async function publishLivePlaylist(
  db: Db,
  job: GenerationRef,
  playlist: string,
  progress: number,
): Promise<boolean> {
  return generationQueue.update(db, job, { hls_live_playlist: playlist, hls_progress: progress });
}

/** Gives the job back (transient failure or shutdown) to be claimed again after `delaySeconds`. */
export async function releaseGeneration(
  db: Db,
  job: GenerationRef,
  delaySeconds: number,
  options: { uncountAttempt?: boolean } = {},
): Promise<boolean> {
  return generationQueue.release(db, job, delaySeconds, {
    hls_live_playlist: null,
    // The failure was an outage (database or bucket out of reach), not the video's: its claim's attempt is taken back.
    ...(options.uncountAttempt ? { hls_attempts: sql`greatest(hls_attempts - 1, 0)` } : {}),
  });
}

/** Forgets any HLS state (after its objects were deleted): the next view generates again. */
export async function resetHls(db: Db, id: string): Promise<VideoRow | undefined> {
  return db
    .updateTable('videos')
    .set({
      hls_status: null,
      hls_playlist_key: null,
      poster_key: null,
      storyboard_key: null,
      hls_variant: null,
      hls_generated_at: null,
      hls_error_message: null,
      hls_progress: null,
      hls_live_playlist: null,
      hls_mode: null,
      hls_requested_at: null,
      hls_run_id: null,
      hls_attempts: 0,
      hls_lease_owner: null,
      hls_lease_expires_at: null,
      hls_next_attempt_at: null,
      updated_at: sql`now()`,
    })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
}

/**
 * Whether a ready video's master playlist has more than its source rendition to offer: a finished lower rendition
 * of the current run, or a caption track. One round trip; `/stream` asks it on every ready answer.
 */
export async function hasMasterPlaylistEntries(
  db: Db,
  video: Pick<VideoRow, 'id' | 'hls_run_id'>,
): Promise<boolean> {
  const result = await sql<{ found: boolean }>`
    select (
      exists (
        select 1 from video_tasks
        where video_id = ${video.id} and hls_run_id = ${video.hls_run_id}
          and kind = ${TaskKind.Rendition} and status = ${TaskStatus.Done}
      )
      or exists (select 1 from video_captions where video_id = ${video.id})
    ) as found`.execute(db);
  return result.rows[0]?.found === true;
}

/** Whether the video has chapters (the `/stream` answer then carries `chapters_url`). */
export async function hasChapters(db: Db, videoId: string): Promise<boolean> {
  const row = await db
    .selectFrom('video_chapters')
    .select('video_id')
    .where('video_id', '=', videoId)
    .executeTakeFirst();
  return row !== undefined;
}

/** The videos generating now, by whether a worker holds them (running) or not (waiting). */
export async function countGeneratingVideos(db: Db): Promise<{ running: number; waiting: number }> {
  const rows = await db
    .selectFrom('videos')
    .select((eb) => [
      eb.fn.countAll<string>().filterWhere('hls_lease_owner', 'is not', null).as('running'),
      eb.fn.countAll<string>().filterWhere('hls_lease_owner', 'is', null).as('waiting'),
    ])
    .where('hls_status', '=', 'generating')
    .executeTakeFirst();
  return { running: Number(rows?.running ?? 0), waiting: Number(rows?.waiting ?? 0) };
}
