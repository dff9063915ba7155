import type { NotetakerErrorDetail, PlayerErrorCode } from '../constants.js';
import type { ReloadReason } from '../engine/playback-engine.js';

const MESSAGES: Record<PlayerErrorCode, string> = {
  unauthorized: 'Your session has expired. Sign in again.',
  not_found: 'This video is not available.',
  upload_incomplete: 'This video has not finished uploading.',
  generation_failed: 'This video could not be prepared.',
  network: 'The video service is unreachable. Check your connection.',
  playback_network: 'The video stopped loading. Check your connection.',
  playback_forbidden: 'Access to this video was refused.',
  media_decode: 'This video could not be decoded.',
  seek_stalled: 'The video could not jump to the chosen time.',
  unsupported_browser: 'This browser cannot play this video.',
};

const RELOAD_ERROR: Record<ReloadReason, PlayerErrorCode> = {
  forbidden: 'playback_forbidden',
  network: 'playback_network',
  decode: 'media_decode',
};

/** The `notetaker-error` detail for `code`: its message (followed by `detail`, if any) and the cause. */
export function playerError(code: PlayerErrorCode, detail?: string, cause?: unknown): NotetakerErrorDetail {
  const error: NotetakerErrorDetail = {
    code,
    message: detail ? `${MESSAGES[code]} ${detail}` : MESSAGES[code],
  };
  if (cause !== undefined) error.cause = cause;
  return error;
}

/** The code the player stops on when reloads with fresh URLs did not get past `reason`. */
export function reloadErrorCode(reason: ReloadReason): PlayerErrorCode {
  return RELOAD_ERROR[reason];
}

/** Maps an error of the `/stream` client (or of loading hls.js) to a player error code. */
export function streamErrorCode(error: unknown): PlayerErrorCode {
  const { status, code } = (error ?? {}) as { status?: number; code?: string };
  if (code === 'stream_failed') return 'generation_failed';
  if (status === 401 || code === 'unauthorized') return 'unauthorized';
  if (status === 404 || code === 'not_found') return 'not_found';
  if (code === 'upload_incomplete') return 'upload_incomplete';
  return 'network';
}
