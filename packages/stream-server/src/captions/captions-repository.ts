import { sql } from 'kysely';

import type { Db } from '../db/create-database.js';
import type { VideoCaptionRow } from '../db/schema.js';

// Data access for the video_captions table. Plain functions taking `db` (or a transaction) first.

/**
 * Every caption track of a video, ordered by language tag (the order players list them in).
 *
 * @example
 * const captions = await listCaptions(db, video.id);
 * const lines = subtitleMediaLines(captions, (language) => `captions/${language}.m3u8?token=${token}`);
 */
export async function listCaptions(db: Db, videoId: string): Promise<VideoCaptionRow[]> {
  return db
    .selectFrom('video_captions')
    .selectAll()
    .where('video_id', '=', videoId)
    .orderBy('language')
    .execute();
}

export async function findCaption(
  db: Db,
  videoId: string,
  language: string,
): Promise<VideoCaptionRow | undefined> {
  return db
    .selectFrom('video_captions')
    .selectAll()
    .where('video_id', '=', videoId)
    .where('language', '=', language)
    .executeTakeFirst();
}

/** What {@link upsertCaption} does when the video is at its track limit or gone. */
export type UpsertCaptionResult =
  | { outcome: 'created'; caption: VideoCaptionRow }
  | { outcome: 'replaced'; caption: VideoCaptionRow; previousStorageKey: string }
  | { outcome: 'no_video' }
  | { outcome: 'too_many' };

/**
 * Creates or replaces the caption row of `(videoId, language)` in one transaction that first locks the video's row,
 * so concurrent writes for one video are serialised: at most one track stays `is_default`, the track limit holds,
 * and a write racing the video's deletion finds no video instead of failing on the foreign key.
 * `label` / `isDefault` left `undefined` keep the current values of an existing track (new tracks: `defaultLabel`,
 * not default).
 */
export async function upsertCaption(
  db: Db,
  input: {
    videoId: string;
    language: string;
    storageKey: string;
    label: string | undefined;
    defaultLabel: string;
    isDefault: boolean | undefined;
    maxTracks: number;
  },
  /** Runs in the same transaction once the row is written (e.g. to queue the event that announces it). */
  afterWrite?: (trx: Db, result: Extract<UpsertCaptionResult, { caption: unknown }>) => Promise<void>,
): Promise<UpsertCaptionResult> {
  const written = async (trx: Db, result: Extract<UpsertCaptionResult, { caption: unknown }>) => {
    await afterWrite?.(trx, result);
    return result;
  };
  return db.transaction().execute(async (trx) => {
    const video = await trx
      .selectFrom('videos')
      .select('id')
      .where('id', '=', input.videoId)
      .forUpdate()
      .executeTakeFirst();
    if (!video) return { outcome: 'no_video' } as const;

    const existing = await findCaption(trx, input.videoId, input.language);
    if (!existing) {
      const count = await trx
        .selectFrom('video_captions')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('video_id', '=', input.videoId)
        .executeTakeFirstOrThrow();
      if (Number(count.n) >= input.maxTracks) return { outcome: 'too_many' } as const;
    }
    if (input.isDefault === true) {
      await trx
        .updateTable('video_captions')
        .set({ is_default: false, updated_at: sql`now()` })
        .where('video_id', '=', input.videoId)
        .where('language', '!=', input.language)
        .where('is_default', '=', true)
        .execute();
    }
    if (existing) {
      const caption = await trx
        .updateTable('video_captions')
        .set({
          storage_key: input.storageKey,
          ...(input.label === undefined ? {} : { label: input.label }),
          ...(input.isDefault === undefined ? {} : { is_default: input.isDefault }),
          updated_at: sql`now()`,
        })
        .where('video_id', '=', input.videoId)
        .where('language', '=', input.language)
        .returningAll()
        .executeTakeFirstOrThrow();
      return written(trx, { outcome: 'replaced', caption, previousStorageKey: existing.storage_key });
    }
    const caption = await trx
      .insertInto('video_captions')
      .values({
        video_id: input.videoId,
        language: input.language,
        label: input.label ?? input.defaultLabel,
        storage_key: input.storageKey,
        is_default: input.isDefault ?? false,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return written(trx, { outcome: 'created', caption });
  });
}

/**
 * Points a track at another stored file, if it still points at `fromKey` (a replacement or deletion in between
 * wins); returns the updated row, or `undefined` when nothing changed.
 */
export async function moveCaptionFile(
  db: Db,
  videoId: string,
  language: string,
  fromKey: string,
  toKey: string,
): Promise<VideoCaptionRow | undefined> {
  return db
    .updateTable('video_captions')
    .set({ storage_key: toKey })
    .where('video_id', '=', videoId)
    .where('language', '=', language)
    .where('storage_key', '=', fromKey)
    .returningAll()
    .executeTakeFirst();
}

/** Deletes one caption row; returns it, or `undefined` when there was none. */
export async function deleteCaption(
  db: Db,
  videoId: string,
  language: string,
): Promise<VideoCaptionRow | undefined> {
  return db
    .deleteFrom('video_captions')
    .where('video_id', '=', videoId)
    .where('language', '=', language)
    .returningAll()
    .executeTakeFirst();
}
