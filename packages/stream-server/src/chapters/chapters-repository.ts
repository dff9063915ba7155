import { sql } from 'kysely';

import type { Db } from '../db/create-database.js';
import type { VideoChaptersRow } from '../db/schema.js';
import type { Chapter } from './chapters.js';

// Data access for the video_chapters table. Plain functions taking `db` (or a transaction) first.

/** The chapters row of a video, or `undefined` when it has none. */
export async function findChapters(db: Db, videoId: string): Promise<VideoChaptersRow | undefined> {
  return db.selectFrom('video_chapters').selectAll().where('video_id', '=', videoId).executeTakeFirst();
}

/**
 * Creates or replaces a video's chapters in one transaction that first locks the video's row, so a write racing
 * the video's deletion finds no video (`undefined`) instead of failing on the foreign key.
 *
 * @example
 * const row = await replaceChapters(db, video.id, [{ start_seconds: 0, title: 'Intro' }]);
 */
export async function replaceChapters(
  db: Db,
  videoId: string,
  chapters: readonly Chapter[],
  /** Runs in the same transaction once the row is written (e.g. to queue the event that announces it). */
  afterWrite?: (trx: Db, row: VideoChaptersRow) => Promise<void>,
): Promise<VideoChaptersRow | undefined> {
  return db.transaction().execute(async (trx) => {
    const video = await trx
      .selectFrom('videos')
      .select('id')
      .where('id', '=', videoId)
      .forUpdate()
      .executeTakeFirst();
    if (!video) return undefined;
    const json = JSON.stringify(chapters);
    const row = await trx
      .insertInto('video_chapters')
      .values({ video_id: videoId, chapters: json })
      .onConflict((oc) => oc.column('video_id').doUpdateSet({ chapters: json, updated_at: sql`now()` }))
      .returningAll()
      .executeTakeFirstOrThrow();
    await afterWrite?.(trx, row);
    return row;
  });
}

/** Deletes a video's chapters; `true` when it had some. */
export async function deleteChapters(db: Db, videoId: string): Promise<boolean> {
  const removed = await db
    .deleteFrom('video_chapters')
    .where('video_id', '=', videoId)
    .returning('video_id')
    .executeTakeFirst();
  return removed !== undefined;
}
