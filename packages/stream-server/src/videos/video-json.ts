import type { VideoRow } from '../db/schema.js';

/** The public JSON shape of a video (see docs/api.md). */
export interface VideoJson {
  id: string;
  owner_id: string;
  title: string | null;
  /** The host app's own id for the video, unique per owner. */
  external_id: string | null;
  /** The host app's JSON object for the video (`{}` when none). */
  metadata: Record<string, unknown>;
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
  value === undefined || value === null
    ? null
    : (value instanceof Date ? value : new Date(value)).toISOString();

export function toVideoJson(row: VideoRow): VideoJson {
  return {
    id: row.id,
    owner_id: row.owner_id,
    title: row.title,
    external_id: row.external_id,
    metadata: metadataObject(row.metadata),
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

/** The stored metadata as an object (`pg` and PGlite parse jsonb; a driver that does not hands over the text). */
function metadataObject(value: unknown): Record<string, unknown> {
  const parsed: unknown = typeof value === 'string' ? JSON.parse(value) : value;
  return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
    ? (parsed as Record<string, unknown>)
    : {};
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Video ids are lowercase UUIDs; anything else cannot name a video (and never reaches a query or a key). */
export function isVideoId(value: string): boolean {
  return UUID.test(value);
}

const OWNER_ID = /^[A-Za-z0-9._@|:-]{1,128}$/;

/** Owner ids become part of storage keys, so they are restricted to a safe alphabet. */
export function isOwnerId(value: string): boolean {
  return OWNER_ID.test(value) && value !== '.' && value !== '..';
}
