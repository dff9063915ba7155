/** Why generation failed, as a closed set a job runner can act on. */
export const MediaErrorCode = {
  /** The input is not a video/audio file ffprobe understands (random bytes, empty file). */
  InvalidInput: 'invalid_input',
  /** The input has no stream we can turn into HLS. */
  Unsupported: 'unsupported',
  /** ffmpeg produced less than the probed duration (truncated or damaged input). */
  Incomplete: 'incomplete',
  /** ffmpeg ran past its wall-clock limit and was killed. */
  Timeout: 'timeout',
  /** ffmpeg exited non-zero for another reason. */
  FfmpegFailed: 'ffmpeg_failed',
  /** The source could not be read or an output could not be stored. */
  Storage: 'storage',
  /** The caller aborted (shutdown). */
  Aborted: 'aborted',
} as const;
export type MediaErrorCode = (typeof MediaErrorCode)[keyof typeof MediaErrorCode];

/**
 * A generation failure. `message` is readable by an end user (it becomes `error_message`);
 * `stderrTail` and `command` are for the logs only.
 */
export class MediaError extends Error {
  override readonly name = 'MediaError';
  constructor(
    readonly code: MediaErrorCode,
    message: string,
    readonly details: { permanent: boolean; stderrTail?: string; command?: string; cause?: unknown },
  ) {
    super(message, { cause: details.cause });
  }
  /** Permanent failures (bad input) are not retried; transient ones (storage, network) are. */
  get permanent(): boolean {
    return this.details.permanent;
  }
}
