import type { Db } from '../db/create-database.js';
import type { VideoChaptersRow, VideoRow } from '../db/schema.js';
import { NotFoundError } from '../errors/domain-error.js';
import { chaptersToVtt, checkChapters, parseChaptersVtt, type Chapter } from './chapters.js';
import { toVideoJson } from '../videos/video-json.js';
import { WebhookEventType } from '../webhooks/events/event-types.js';
import { createWebhookEvents, type WebhookEvents } from '../webhooks/events/publish-event.js';
import { deleteChapters, findChapters, replaceChapters } from './chapters-repository.js';

/** The public JSON shape of a video's chapters (see docs/api.md); `updated_at` is `null` when it has none. */
export interface ChaptersJson {
  chapters: Chapter[];
  updated_at: string | null;
}

const iso = (value: Date | string) => (value instanceof Date ? value : new Date(value)).toISOString();

/** The JSON of a chapters row (or of none). */
export function toChaptersJson(row: VideoChaptersRow | undefined): ChaptersJson {
  return row
    ? { chapters: row.chapters, updated_at: iso(row.updated_at) }
    : { chapters: [], updated_at: null };
}

/** What a chapters upload holds: a JSON list (shape already parsed) or a WebVTT `kind=chapters` file. */
export type ChaptersInput =
  | { kind: 'json'; chapters: ReadonlyArray<{ start_seconds: unknown; title: unknown }> }
  | { kind: 'vtt'; body: Uint8Array };

/**
 * Checks and stores `video`'s chapters, replacing any it had (400 naming the problem; 404 when the video was deleted
 * meanwhile). An empty list removes them.
 *
 * @example
 * await saveChapters(db, video, { kind: 'json', chapters: [{ start_seconds: 0, title: 'Intro' }] });
 */
export async function saveChapters(
  db: Db,
  video: VideoRow,
  input: ChaptersInput,
  events: WebhookEvents = createWebhookEvents(),
): Promise<ChaptersJson> {
  const chapters =
    input.kind === 'json'
      ? checkChapters(input.chapters, video.duration_seconds)
      : parseChaptersVtt(input.body, video.duration_seconds);
  if (chapters.length === 0) {
    await deleteAndAnnounce(db, video, events);
    return toChaptersJson(undefined);
  }
  const row = await replaceChapters(db, video.id, chapters, (trx, written) =>
    announce(events, trx, video, written),
  );
  if (!row) throw new NotFoundError();
  events.wake();
  return toChaptersJson(row);
}

/** Queues `video.chapters.updated` in the write's transaction, with the chapters the video has now. */
async function announce(
  events: WebhookEvents,
  trx: Db,
  video: VideoRow,
  row: VideoChaptersRow | undefined,
): Promise<void> {
  await events.publish(trx, WebhookEventType.ChaptersUpdated, {
    video: toVideoJson(video),
    chapters: toChaptersJson(row),
  });
}

/** Deletes the chapters and announces it, together; `false` when the video had none (nothing to announce). */
async function deleteAndAnnounce(db: Db, video: VideoRow, events: WebhookEvents): Promise<boolean> {
  const deleted = await db.transaction().execute(async (trx) => {
    const had = await deleteChapters(trx, video.id);
    if (had) await announce(events, trx, video, undefined);
    return had;
  });
  if (deleted) events.wake();
  return deleted;
}

/** A video's chapters (an empty list when it has none). */
export async function readChapters(db: Db, video: VideoRow): Promise<ChaptersJson> {
  return toChaptersJson(await findChapters(db, video.id));
}

/** Deletes a video's chapters; 404 when it has none. */
export async function removeChapters(
  db: Db,
  video: VideoRow,
  events: WebhookEvents = createWebhookEvents(),
): Promise<void> {
  if (!(await deleteAndAnnounce(db, video, events))) throw new NotFoundError('The video has no chapters.');
}

/** The video's chapters as a WebVTT `kind=chapters` track; 404 when it has none. */
export async function chaptersTrack(db: Db, video: VideoRow): Promise<string> {
  const row = await findChapters(db, video.id);
  if (!row || row.chapters.length === 0) throw new NotFoundError('The video has no chapters.');
  return chaptersToVtt(row.chapters, video.duration_seconds);
}
