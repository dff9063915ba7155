/** `GET /api/videos/{id}/stream` (200): the HLS playlist is complete and can be played. */
export interface StreamReady {
  status: 'ready';
  /** Absolute playlist URL carrying a short-lived playback token; hand it to the player as is. */
  hls_url: string;
  /** ISO 8601 time after which `hls_url` stops working; ask `/stream` again for a fresh one. */
  expires_at: string;
  /** A poster image (JPEG, a frame at 10 % of the video) valid until `expires_at`; absent for audio-only videos. */
  poster_url?: string;
  /** Seek-preview thumbnails: a WebVTT whose cues are `<sprite URL>#xywh=x,y,w,h`, valid until `expires_at`. */
  storyboard_url?: string;
  /** The video's chapters as a WebVTT `kind=chapters` track valid until `expires_at`; present when it has chapters. */
  chapters_url?: string;
}

/** `GET /api/videos/{id}/stream` (202): HLS is being generated. */
export interface StreamGenerating {
  status: 'generating';
  /** Seconds to wait before asking again (from the body, else the `Retry-After` header, else 2). */
  retry_after: number;
  /** 0..1 when the server knows it. */
  progress?: number;
  /** Present once the first segments are stored: a growing EVENT playlist that can be played already. */
  hls_url?: string;
  /** `true` together with `hls_url` when playback can start before generation ends. */
  playable?: boolean;
  expires_at?: string;
}

/** A `generating` answer that can already be played (see `waitForStream({ untilPlayable: true })`). */
export type StreamPlayable = StreamGenerating & { playable: true; hls_url: string };

/** `GET /api/videos/{id}/stream` (200): generation failed; `retryStream(id)` starts it again. */
export interface StreamFailed {
  status: 'failed';
  /** Human-readable reason, e.g. an unreadable source file. */
  error_message: string;
}

/** Every answer of `/stream`, discriminated by `status`. */
export type StreamStatus = StreamReady | StreamGenerating | StreamFailed;

/** The three values of `StreamStatus['status']`. */
export type StreamState = StreamStatus['status'];

/** A video as the server describes it (`GET /api/videos/{id}`). */
export interface Video {
  id: string;
  owner_id: string;
  title: string | null;
  /** Your own id for the video (unique per owner), to find it again with `{ external_id }` in a list. */
  external_id: string | null;
  /** Your JSON object for the video (at most 4 KB), as you last set it; `{}` when none. */
  metadata: Record<string, unknown>;
  upload_status: 'pending' | 'complete';
  size_bytes: number | null;
  duration_seconds: number | null;
  hls_status: StreamState | null;
  hls_progress: number | null;
  hls_error_message: string | null;
  hls_generated_at: string | null;
  created_at: string;
}

/**
 * What `updateVideo` changes (`PATCH …/videos/{id}`): only the fields given; `null` removes a title or external id
 * and empties the metadata. `metadata` replaces the whole object (no merge).
 */
export interface VideoPatch {
  title?: string | null;
  /** 1–200 characters, unique per owner (a taken one rejects with `StreamHttpError` 409). */
  external_id?: string | null;
  /** A JSON object of at most 4 KB (compact JSON, UTF-8) and 8 levels. */
  metadata?: Record<string, unknown> | null;
}

/** A caption track of a video (`PUT`/`GET /api/manage/videos/{id}/captions…`). */
export interface Caption {
  /** BCP 47 tag in canonical case, e.g. `en`, `pt-BR`, `zh-Hant` (the server canonicalises what it is given). */
  language: string;
  /** What players show in their captions menu, e.g. `Portuguese (Brazil)`. */
  label: string;
  /** Shown without the viewer choosing; at most one track per video has it. */
  default: boolean;
  created_at: string;
  updated_at: string;
}

/** One chapter of a video (`PUT`/`GET /api/videos/{id}/chapters`). */
export interface Chapter {
  /** Where it starts, in seconds from the start of the video (millisecond precision; the first chapter at 0). */
  start_seconds: number;
  /** 1–200 characters. */
  title: string;
}

/** A video's watch analytics (`GET /api/videos/{id}/analytics`), computed over every viewing session. */
export interface VideoAnalytics {
  /** Viewing sessions. */
  views: number;
  unique_viewers: number;
  watch_time_seconds: number;
  /** Share of sessions that reached 90 % of the video; `null` without sessions. */
  completion_rate: number | null;
  /** Share of sessions that watched each second (index = second), 0–1. */
  retention: number[];
  /** The seconds most watched again, most first (at most 5). */
  rewind_hotspots: { second: number; sessions: number }[];
  /** Startup time (first `/stream` request → first frame) in ms. */
  startup_ms: { median: number | null; p95: number | null };
  /** Rebuffering / (watching + rebuffering); `null` without watch time. */
  rebuffer_ratio: number | null;
  /** Share of sessions that stopped on a playback error; `null` without sessions. */
  failure_rate: number | null;
}

/** A video's chapters as the server answers them. */
export interface ChapterList {
  /** Sorted by start; empty when the video has none. */
  chapters: Chapter[];
  /** When they were last set; `null` when there are none. */
  updated_at: string | null;
}

/**
 * Where to send a registered video's source (`POST /api/videos` and `/api/manage/videos` answer it beside the video):
 * one presigned PUT with the headers it was signed with, or presigned parts of a multipart upload whose ETags go to
 * `upload/complete`.
 */
export type UploadInstructions =
  | {
      method: 'PUT';
      /** Takes exactly the registered size and type, once. */
      url: string;
      /** Send every one with the PUT (they are signed: Content-Type, If-None-Match). */
      headers: Record<string, string>;
      expires_at: string;
    }
  | {
      method: 'multipart';
      video_id: string;
      upload_id: string;
      /** Bytes per part (the last part may be shorter). */
      part_size: number;
      /** Parts of the whole file; `parts` carries the URLs of the first ones only (at most 100). */
      part_count: number;
      /** URLs of the first parts; ask `upload/parts` for the others. */
      parts: { part_number: number; url: string }[];
      expires_at: string;
    };

/** Options every single request accepts. */
export interface RequestOptions {
  /** Cancels the request; the promise then rejects with `signal.reason` (as `fetch` does). */
  signal?: AbortSignal;
}

/**
 * Time source used for every delay. Inject one in tests to make polling and backoff deterministic.
 * `sleep` must settle when `signal` aborts (rejecting with `signal.reason`) and leave no timer behind.
 */
export interface StreamClock {
  now(): number;
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  /** A number in [0, 1), used for backoff jitter. */
  random(): number;
}

/**
 * Where a pending upload stands (`GET …/videos/{id}/upload`), for resuming it: a single PUT gets a fresh URL; a
 * multipart upload lists the parts storage holds (with the ETags `upload/complete` needs) and fresh URLs for the
 * first missing ones.
 */
export type UploadState =
  | {
      video_id: string;
      status: 'pending';
      method: 'PUT';
      url: string;
      headers: Record<string, string>;
      expires_at: string;
    }
  | {
      video_id: string;
      status: 'pending';
      method: 'multipart';
      upload_id: string;
      part_size: number;
      part_count: number;
      /** Parts storage holds, with their ETags and sizes. */
      stored_parts: { part_number: number; etag: string; size: number }[];
      /** Fresh URLs for the first missing parts (at most 100); ask `upload/parts` for the others. */
      parts: { part_number: number; url: string }[];
      expires_at: string;
    };
