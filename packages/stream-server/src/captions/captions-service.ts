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
import { storageKeys } from '../media/hls-layout.js';
import { toVideoJson } from '../videos/video-json.js';
import { WebhookEventType } from '../webhooks/events/event-types.js';
import { createWebhookEvents, type WebhookEvents } from '../webhooks/events/publish-event.js';
import { deleteCaption, findCaption, listCaptions, upsertCaption } from './captions-repository.js';
import { canonicalLanguage, languageLabel } from './language-tag.js';
import { checkWebVtt, MAX_CAPTION_BYTES, WebVttError } from './webvtt.js';

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
 * Checks, stores and records one caption track of `video`: the WebVTT is validated (400 naming the line that is
 * wrong), stored normalised at `videos/<owner>/<id>_captions/<language>.vtt`, then the row is created or replaced.
 * The object is written first and the row second; if the video was deleted meanwhile (or the track limit is reached)
 * the object is removed again, so nothing is left behind.
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

  const key = storageKeys.captions(video.owner_id, video.id, language);
  const existed = (await findCaption(deps.db, video.id, language)) !== undefined;
  await deps.storage.putObject(key, text, {
    contentType: 'text/vtt; charset=utf-8',
    contentLength: Buffer.byteLength(text),
  });
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
  return { created: result.outcome === 'created', caption: result.caption };
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
