import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

export const HlsStatus = { Generating: 'generating', Ready: 'ready', Failed: 'failed' } as const;
export type HlsStatus = (typeof HlsStatus)[keyof typeof HlsStatus];

export const UploadStatus = { Pending: 'pending', Complete: 'complete' } as const;
export type UploadStatus = (typeof UploadStatus)[keyof typeof UploadStatus];

type Timestamp = ColumnType<Date, Date | string, Date | string>;
/** `bigint` columns arrive as strings from `pg`; read them with `Number()`. */
type BigIntColumn = ColumnType<string | number, number, number>;

export interface VideosTable {
  id: string;
  owner_id: string;
  title: string | null;
  source_key: string;
  content_type: string | null;
  size_bytes: BigIntColumn | null;
  upload_status: UploadStatus;
  upload_id: string | null;
  duration_seconds: number | null;
  media_info: ColumnType<unknown, string | null, string | null> | null;
  hls_status: HlsStatus | null;
  hls_playlist_key: string | null;
  hls_generated_at: Timestamp | null;
  hls_error_message: string | null;
  hls_progress: number | null;
  hls_mode: string | null;
  /** While generating: an EVENT playlist of the segments already stored (relative URIs). */
  hls_live_playlist: string | null;
  /** `…_hls/poster.jpg` once made (videos with a picture only). */
  poster_key: string | null;
  /** `…_hls/storyboard.vtt` once made; its cues point into `…_hls/storyboard.jpg`. */
  storyboard_key: string | null;
  /** JSON `VariantAttributes` of the source rendition (measured), for the master playlist. */
  hls_variant: string | null;
  hls_requested_at: Timestamp | null;
  hls_run_id: string | null;
  hls_attempts: Generated<number>;
  hls_lease_owner: string | null;
  hls_lease_expires_at: Timestamp | null;
  hls_next_attempt_at: Timestamp | null;
  /** The host app's JSON object for this video (at most 4 KB, see src/videos/video-details.ts); `{}` when none. */
  metadata: ColumnType<Record<string, unknown>, string | undefined, string>;
  /** The host app's own id for this video, unique per owner; `null` when none. */
  external_id: string | null;
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface WebhookDeliveriesTable {
  id: string;
  /** The event's id: the `webhook-id` header, the same for each of its deliveries and across retries. */
  event_id: string;
  /** Where it goes: a registered endpoint, or `null` for the environment's (`WEBHOOK_URL`). */
  endpoint_id: string | null;
  event: string;
  /** The exact JSON body that is signed and sent. */
  payload: string;
  /** Requests actually sent (an attempt the database kept from being made is not one). */
  attempts: Generated<number>;
  /** Times a worker leased it. */
  claims: Generated<number>;
  next_attempt_at: ColumnType<Date, Date | string | undefined, Date | string>;
  lease_owner: string | null;
  lease_expires_at: Timestamp | null;
  delivered_at: Timestamp | null;
  failed_at: Timestamp | null;
  last_error: string | null;
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

/** A receiver registered through the management API (src/webhooks/endpoints/). */
export interface WebhookEndpointsTable {
  id: string;
  url: string;
  description: string | null;
  /** The event types it receives; `null` for every one. */
  events: ColumnType<string[] | null, string | null, string | null>;
  /** `whsec_` + base64 of the HMAC key. */
  secret: string;
  /** The secret before the last rotation, still signing beside the new one until `previous_secret_expires_at`. */
  previous_secret: string | null;
  previous_secret_expires_at: Timestamp | null;
  enabled: Generated<boolean>;
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export const TaskStatus = { Pending: 'pending', Done: 'done', Failed: 'failed' } as const;
export type TaskStatus = (typeof TaskStatus)[keyof typeof TaskStatus];

export const TaskKind = { Thumbnails: 'thumbnails', Rendition: 'rendition' } as const;
export type TaskKind = (typeof TaskKind)[keyof typeof TaskKind];

/** Work done for a ready video (poster and storyboard, lower renditions), leased like generation jobs. */
export interface VideoTasksTable {
  id: string;
  video_id: string;
  /** The generation run this task belongs to; results of an older run are never applied. */
  hls_run_id: string;
  kind: TaskKind;
  /** JSON parameters, e.g. `{"height":480}`. */
  params: Generated<string>;
  status: Generated<TaskStatus>;
  /** JSON of what was produced (a rendition's playlist key, bandwidth, resolution, codecs…). */
  result: string | null;
  error_message: string | null;
  attempts: Generated<number>;
  next_attempt_at: ColumnType<Date, Date | string | undefined, Date | string>;
  lease_owner: string | null;
  lease_expires_at: Timestamp | null;
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

/** One WebVTT caption file per video and language. */
export interface VideoCaptionsTable {
  video_id: string;
  /** A BCP-47 tag in canonical case (`en`, `pt-BR`, `zh-Hant`). */
  language: string;
  label: string;
  storage_key: string;
  is_default: Generated<boolean>;
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

/** A video's chapters: one JSON array per video, sorted by start (see src/chapters/chapters.ts). */
export interface VideoChaptersTable {
  video_id: string;
  chapters: ColumnType<Array<{ start_seconds: number; title: string }>, string, string>;
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

/** Second ranges `[start, end)` of a viewing session, sorted and disjoint. */
export type SecondRanges = Array<[number, number]>;

/** One viewing session of a video, replaced by each report of the player (see src/analytics/). */
export interface WatchSessionsTable {
  id: string;
  video_id: string;
  /** The playback token's user id (no IP address, no cookie). */
  viewer_id: string;
  startup_ms: number | null;
  rebuffer_count: Generated<number>;
  rebuffer_ms: Generated<number>;
  error_code: string | null;
  watched: ColumnType<SecondRanges, string, string>;
  rewatched: ColumnType<SecondRanges, string, string>;
  watched_seconds: Generated<number>;
  rewatched_seconds: Generated<number>;
  rendition_switches: Generated<number>;
  reached_90: Generated<boolean>;
  /** The player sent its last report (the page was hidden or closed, or the video changed). */
  ended: Generated<boolean>;
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

/** The source key of a deleted video whose upload URL may still be used; cleanup removes it until `remove_until`. */
export interface OrphanedSourcesTable {
  source_key: string;
  remove_until: Timestamp;
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface DatabaseSchema {
  videos: VideosTable;
  orphaned_sources: OrphanedSourcesTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_endpoints: WebhookEndpointsTable;
  video_tasks: VideoTasksTable;
  video_captions: VideoCaptionsTable;
  video_chapters: VideoChaptersTable;
  watch_sessions: WatchSessionsTable;
}

export type VideoRow = Selectable<VideosTable>;
export type NewVideoRow = Insertable<VideosTable>;
export type VideoRowUpdate = Updateable<VideosTable>;
export type WebhookDeliveryRow = Selectable<WebhookDeliveriesTable>;
export type WebhookEndpointRow = Selectable<WebhookEndpointsTable>;
export type VideoTaskRow = Selectable<VideoTasksTable>;
export type VideoCaptionRow = Selectable<VideoCaptionsTable>;
export type VideoChaptersRow = Selectable<VideoChaptersTable>;
