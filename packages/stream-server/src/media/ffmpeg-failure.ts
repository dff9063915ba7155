import type { MediaErrorCode } from './media-error.js';

/** What a failed ffprobe/ffmpeg run means for the job: error code, whether a retry may help, a readable message. */
export interface FailureDescription {
  code: MediaErrorCode;
  permanent: boolean;
  message: string;
}

/** The user-facing messages, in one place. */
export const MediaMessage = {
  NotAVideo: 'The file is not a video we can read.',
  Empty: 'The file is empty.',
  Damaged: 'The video file is incomplete or damaged.',
  SourceNotFound: 'The video file was not found in storage.',
  SourceDenied: 'The video file could not be read from storage: access was denied.',
  SourceUnreachable: 'The video file could not be read from storage. It will be tried again.',
  NoDiskSpace: 'The server ran out of temporary disk space. It will be tried again.',
  ConversionFailed: 'The video could not be converted.',
  Interrupted: 'The video conversion was interrupted. It will be tried again.',
  Aborted: 'Generation was stopped before it finished.',
  StoreFailed: 'The video could not be saved to storage. It will be tried again.',
} as const;
export type MediaMessage = (typeof MediaMessage)[keyof typeof MediaMessage];

/** ffmpeg's HTTP client prints the status it got; 404/410 mean the object is gone. */
const NOT_FOUND = /Server returned (404|410)|HTTP error 404|HTTP error 410/i;
const DENIED = /Server returned (401|403)|HTTP error 40[13]/i;
/** Network trouble and server-side errors: a retry may well succeed. */
const UNREACHABLE =
  /Server returned 5\d\d|Server returned 5XX|HTTP error 5\d\d|Connection refused|Connection reset|Connection timed out|Operation timed out|Network is unreachable|No route to host|Failed to resolve hostname|Name or service not known|Temporary failure in name resolution|Broken pipe|\bTLS\b|SSL routines|Server returned 429/i;
/** The container was read but its data ends early or is corrupt (a truncated upload). */
const DAMAGED =
  /corrupt input packet|Packet corrupt|Invalid NAL unit size|partial file|Stream ends prematurely|error reading header|Truncating packet|Server returned 4XX Client Error|Server returned 416|Error while decoding stream/i;
/** ffprobe/ffmpeg could not make sense of the input at all. */
const NOT_A_VIDEO =
  /Invalid data found when processing input|Format not on whitelist|moov atom not found|could not find codec parameters|EBML header parsing failed|Unknown input format|no streams|Server returned 4XX Client Error|Server returned 416|End of file/i;
const NO_SPACE = /No space left on device/i;

/**
 * Classifies a failed run from the tail of its stderr. `probe` failures concern the input as a whole (it is not
 * a media file); `convert` failures happen after a successful probe, so unreadable data there means the file is
 * damaged or cut short. HTTP 404/410 are permanent (the object is gone), 401/403 permanent too (the service's
 * own freshly signed URL was refused: configuration, not luck), 5xx/429/network errors transient.
 */
export function describeFfmpegFailure(stderrTail: string, phase: 'probe' | 'convert'): FailureDescription {
  if (NOT_FOUND.test(stderrTail)) {
    return { code: 'invalid_input', permanent: true, message: MediaMessage.SourceNotFound };
  }
  if (DENIED.test(stderrTail))
    return { code: 'storage', permanent: true, message: MediaMessage.SourceDenied };
  if (UNREACHABLE.test(stderrTail)) {
    return { code: 'storage', permanent: false, message: MediaMessage.SourceUnreachable };
  }
  if (NO_SPACE.test(stderrTail))
    return { code: 'ffmpeg_failed', permanent: false, message: MediaMessage.NoDiskSpace };
  if (phase === 'probe') {
    // Whatever else ffprobe fails on, the input is not something we can read (stderr may even be empty).
    return { code: 'invalid_input', permanent: true, message: MediaMessage.NotAVideo };
  }
  if (DAMAGED.test(stderrTail)) return { code: 'incomplete', permanent: true, message: MediaMessage.Damaged };
  if (NOT_A_VIDEO.test(stderrTail)) {
    return { code: 'ffmpeg_failed', permanent: true, message: MediaMessage.NotAVideo };
  }
  return { code: 'ffmpeg_failed', permanent: true, message: MediaMessage.ConversionFailed };
}
