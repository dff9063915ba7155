import type { VideoRow } from '../db/schema.js';

/** The public JSON shape of a video (see docs/api.md). */
export interface VideoJson {
  id: string;
  owner_id: string;
  title: string | null;
  upload_status: 'pending' | 'complete';
  size_bytes: number | null;
  duration_seconds: number | null;
  hls_status: 'generating' | 'ready' | 'failed' | null;
  hls_progress: number | null;
  hls_error_message: string | null;
  hls_generated_at: string | null;
  created_at: string;
}

const iso = (value: Date | string | null | undefined): string | null =>
  value === undefined ||
  value === null ? null : (value instanceof Date ? value : new Date(value)).toISOString();

export function toVideoJson(row: VideoRow): VideoJson {
  return {
    id: row.id,
    owner_id: row.owner_id,
    title: row.title,
    upload_status: row.upload_status,
    size_bytes: row.size_bytes === null ? null : Number(row.size_bytes),
    duration_seconds: row.duration_seconds,
    hls_status: row.hls_status,
    hls_progress: row.hls_progress,
    hls_error_message: row.hls_error_message,
    hls_generated_at: iso(row.hls_generated_at),
    created_at: iso(row.created_at) ?? new Date(0).toISOString(),
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Video ids are lowercase UUIDs; anything else cannot name a video (and never reaches a query or a key). */
export function isVideoId(value: string): boolean {
  return UUID.test(value);
}

/** Storage layout kept from the original design, so an existing bucket works unchanged. */
export const storageKeys = {
  source: (ownerId: string, videoId: string) => `videos/${ownerId}/${videoId}.mp4`,
  hlsPrefix: (ownerId: string, videoId: string) => `videos/${ownerId}/${videoId}_hls/`,
  playlist: (ownerId: string, videoId: string) => `videos/${ownerId}/${videoId}_hls/playlist.m3u8`,
  /** Every caption file of a video lives under this prefix (kept apart from the HLS, which is regenerated). */
  captionsPrefix: (ownerId: string, videoId: string) => `videos/${ownerId}/${videoId}_captions/`,
  /** One caption track: `language` is a canonical BCP-47 tag (letters, digits and `-` only). */
  captions: (ownerId: string, videoId: string, language: string) =>
    `videos/${ownerId}/${videoId}_captions/${language}.vtt`,
} as const;

/**
 * Keys under any video's generated prefixes (`…/{id}_hls/`: playlists, segments, renditions, posters, storyboards;
 * `…/{id}_captions/`): made and removed by the service, never a source.
 */
const GENERATED_KEY = /(^|\/)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}_(hls|captions)(\/|$)/i;

/** True when `key` lies under some video's generated prefixes (see `storageKeys`). */
export function isGeneratedKey(key: string): boolean {
  return GENERATED_KEY.test(key);
}

const OWNER_ID = /^[A-Za-z0-9._@|:-]{1,128}$/;

/** Owner ids become part of storage keys, so they are restricted to a safe alphabet. */
export function isOwnerId(value: string): boolean {
  return OWNER_ID.test(value) && value !== '.' && value !== '..';
}
