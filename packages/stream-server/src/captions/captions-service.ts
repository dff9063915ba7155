import { createHash } from 'node:crypto';

import type { Db } from '../db/create-database.js';
import type { VideoCaptionRow, VideoRow } from '../db/schema.js';
import {
  DomainError,
  ErrorCode,
  InvalidInputError,
  ConflictError,
  NotFoundError,
} from '../errors/domain-error.js';
import { StorageError, StorageErrorCode, type Storage } from '../storage/storage.js';
import { isContentNamedCaptionKey, storageKeys } from '../media/hls-layout.js';
import { toVideoJson } from '../videos/video-json.js';
import { WebhookEventType } from '../webhooks/events/event-types.js';
import { createWebhookEvents, type WebhookEvents } from '../webhooks/events/publish-event.js';
import {
  deleteCaption,
  findCaption,
  listCaptions,
  moveCaptionFile,
  upsertCaption,
} from './captions-repository.js';
import { canonicalLanguage, languageLabel } from './language-tag.js';
import { SEGMENT_TIMELINE_START_MPEGTS } from './subtitle-playlist.js';
import { checkWebVtt, MAX_CAPTION_BYTES, WebVttError, withTimestampMap } from './webvtt.js';

/** Most caption tracks one video may have. */
export const MAX_CAPTION_TRACKS = 50;

/** Longest label, in characters. */
export const MAX_CAPTION_LABEL = 100;

/** The public JSON shape of a caption track (see docs/api.md). */
export interface CaptionJson {
  language: string;
  label: string;
  default: boolean;
  created_at: string;
  updated_at: string;
}

const iso = (value: Date | string) => (value instanceof Date ? value : new Date(value)).toISOString();

export function toCaptionJson(row: VideoCaptionRow): CaptionJson {
  return {
    language: row.language,
    label: row.label,
    default: row.is_default,
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
  };
}

/** What caption writes need: the database, the bucket, and (default: registered endpoints only) the events. */
export interface CaptionDeps {
  db: Db;
  storage: Storage;
  events?: WebhookEvents | undefined;
}

/** Queues `video.captions.updated` in the write's transaction: the change and every track the video has now. */
async function announce(
  events: WebhookEvents,
  trx: Db,
  video: VideoRow,
  language: string,
  change: 'created' | 'replaced' | 'deleted',
): Promise<void> {
  const captions = (await listCaptions(trx, video.id)).map(toCaptionJson);
  await events.publish(trx, WebhookEventType.CaptionsUpdated, {
    video: toVideoJson(video),
    change: { language, action: change },
    captions,
  });
}

/** The canonical tag of a language given in a URL; a 400 naming the problem otherwise. */
export function requireLanguage(tag: string): string {
  const language = canonicalLanguage(tag);
  if (!language) {
    throw new InvalidInputError(
      `${JSON.stringify(tag)} is not a BCP-47 language tag (e.g. en, pt-BR, zh-Hant, es-419).`,
    );
  }
  return language;
}

function checkLabel(label: string | undefined): string | undefined {
  if (label === undefined) return undefined;
  const trimmed = label.trim();
  // eslint-disable-next-line no-control-regex
  if (trimmed.length === 0 || trimmed.length > MAX_CAPTION_LABEL || /[\u0000-\u001f\u007f]/.test(trimmed)) {
    throw new InvalidInputError(
      `label must be 1–${MAX_CAPTION_LABEL} characters without control characters.`,
    );
  }
  return trimmed;
}

/** 413 for a caption file over {@link MAX_CAPTION_BYTES}. */
export function captionTooLarge(): DomainError {
  return new DomainError(
    ErrorCode.PayloadTooLarge,
    `A caption file may be at most ${MAX_CAPTION_BYTES / 1024 / 1024} MiB.`,
  );
}

/**
 * A normalised WebVTT as players read it, and where it is stored: the `X-TIMESTAMP-MAP` that lines its cues up with
 * the segments added, at a key named by the content (`<language>.<hash>.vtt`). Players fetch it from storage with a
 * URL every viewer of a signing window shares, so a new version must never reuse an old version's key.
 */
function playerFile(video: VideoRow, language: string, normalised: string): { key: string; text: string } {
  const text = withTimestampMap(normalised, SEGMENT_TIMELINE_START_MPEGTS);
  const hash = createHash('sha256').update(text).digest('hex').slice(0, 16);
  return { key: storageKeys.captions(video.owner_id, video.id, language, hash), text };
}

const putVtt = (storage: Storage, key: string, text: string) =>
  storage.putObject(key, text, {
    contentType: 'text/vtt; charset=utf-8',
    contentLength: Buffer.byteLength(text),
  });

/**
 * Checks, stores and records one caption track of `video`: the WebVTT is validated (400 naming the line that is
 * wrong), normalised and stored as players read it (see {@link playerFile}), then the row is created or replaced and
 * a replaced version's file removed. The object is written first and the row second; if the video was deleted
 * meanwhile (or the track limit is reached) the object is removed again, so nothing is left behind.
 *
 * @example
 * await saveCaption({ db, storage }, video, { language: 'pt-br', body, isDefault: true });
 * // { created: true, caption: { language: 'pt-BR', label: 'Portuguese (Brazil)', is_default: true, … } }
 */
export async function saveCaption(
  deps: CaptionDeps,
  video: VideoRow,
  input: { language: string; body: Uint8Array; label?: string | undefined; isDefault?: boolean | undefined },
): Promise<{ created: boolean; caption: VideoCaptionRow }> {
  const language = requireLanguage(input.language);
  const label = checkLabel(input.label);
  if (input.body.byteLength > MAX_CAPTION_BYTES) throw captionTooLarge();
  let text: string;
  try {
    text = checkWebVtt(input.body).text;
  } catch (error) {
    if (error instanceof WebVttError)
      throw new InvalidInputError(`The captions are not valid WebVTT. ${error.message}.`);
    throw error;
  }

  const file = playerFile(video, language, text);
  const key = file.key;
  const existed = (await findCaption(deps.db, video.id, language)) !== undefined;
  await putVtt(deps.storage, key, file.text);
  const events = deps.events ?? createWebhookEvents();
  const result = await upsertCaption(
    deps.db,
    {
      videoId: video.id,
      language,
      storageKey: key,
      label,
      defaultLabel: languageLabel(language),
      isDefault: input.isDefault,
      maxTracks: MAX_CAPTION_TRACKS,
    },
    (trx, written) => announce(events, trx, video, language, written.outcome),
  );
  if (result.outcome === 'no_video' || result.outcome === 'too_many') {
    if (!existed) await deps.storage.deleteObject(key).catch(() => {});
    if (result.outcome === 'no_video') throw new NotFoundError();
    throw new ConflictError(
      ErrorCode.Conflict,
      `A video may have at most ${MAX_CAPTION_TRACKS} caption tracks; delete one first.`,
    );
  }
  events.wake();
  if (result.outcome === 'replaced' && result.previousStorageKey !== key) {
    // A player that already holds the old file's URL keeps what it loaded; new playlists name the new file.
    await deps.storage.deleteObject(result.previousStorageKey).catch(() => {});
  }
  return { created: result.outcome === 'created', caption: result.caption };
}

/**
 * The track with its file as players read it. A track stored before files were content-named (`<language>.vtt`,
 * without the timestamp map) is rewritten once, on its first playback: the new file is written, the row moved to it
 * if no replacement came in between, and the old file removed. 404 when the track is gone meanwhile.
 */
export async function playableCaption(
  deps: { db: Db; storage: Storage },
  video: VideoRow,
  caption: VideoCaptionRow,
): Promise<VideoCaptionRow> {
  if (isContentNamedCaptionKey(caption.storage_key)) return caption;
  const file = playerFile(video, caption.language, await readCaptionText(deps.storage, caption));
  await putVtt(deps.storage, file.key, file.text);
  const moved = await moveCaptionFile(deps.db, video.id, caption.language, caption.storage_key, file.key);
  if (moved) {
    await deps.storage.deleteObject(caption.storage_key).catch(() => {});
    return moved;
  }
  const current = await findCaption(deps.db, video.id, caption.language);
  if (current?.storage_key !== file.key) await deps.storage.deleteObject(file.key).catch(() => {});
  if (!current) throw new NotFoundError('The video has no captions in that language.');
  return playableCaption(deps, video, current);
}

/** A track's file as players read it: stored that way, or (a track stored before) with the timestamp map added. */
export async function readPlayableCaptionText(storage: Storage, caption: VideoCaptionRow): Promise<string> {
  const text = await readCaptionText(storage, caption);
  return isContentNamedCaptionKey(caption.storage_key)
    ? text
    : withTimestampMap(text, SEGMENT_TIMELINE_START_MPEGTS);
}

/** Deletes one caption track (row, then file); 404 when the video has none in that language. */
export async function removeCaption(deps: CaptionDeps, video: VideoRow, tag: string): Promise<void> {
  const language = requireLanguage(tag);
  const events = deps.events ?? createWebhookEvents();
  const removed = await deps.db.transaction().execute(async (trx) => {
    const row = await deleteCaption(trx, video.id, language);
    if (row) await announce(events, trx, video, language, 'deleted');
    return row;
  });
  if (!removed) throw new NotFoundError('The video has no captions in that language.');
  events.wake();
  await deps.storage.deleteObject(removed.storage_key);
}

/** The stored WebVTT of a track; 404 if the file is missing, 503 if storage does not answer. */
export async function readCaptionText(storage: Storage, caption: VideoCaptionRow): Promise<string> {
  try {
    return await storage.getObjectText(caption.storage_key);
  } catch (error) {
    if (error instanceof StorageError && error.code === StorageErrorCode.NotFound) {
      throw new NotFoundError('The caption file is missing from storage; upload it again.');
    }
    if (error instanceof StorageError && error.transient) {
      throw new DomainError(ErrorCode.Unavailable, 'Storage did not answer; try again.', {
        cause: error,
      });
    }
    throw error;
  }
}
