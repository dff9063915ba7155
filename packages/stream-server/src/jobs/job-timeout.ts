import type { Config } from '../config/load-config.js';

/**
 * ffmpeg's wall-clock limit for work on a video of `mediaSeconds`: `JOB_TIMEOUT_BASE_SECONDS` plus
 * `JOB_TIMEOUT_PER_MEDIA_SECOND` for each second of media, times `factor` (a full encode of a rendition takes
 * longer), never more than `JOB_TIMEOUT_MAX_SECONDS`; in milliseconds.
 *
 * @example
 * jobTimeoutMs({ timeoutBaseSeconds: 120, timeoutPerMediaSecond: 3, timeoutMaxSeconds: 14_400 }, 36_000) // 14_400_000
 */
export function jobTimeoutMs(
  worker: Pick<Config['worker'], 'timeoutBaseSeconds' | 'timeoutPerMediaSecond' | 'timeoutMaxSeconds'>,
  mediaSeconds: number,
  factor = 1,
): number {
  const seconds = (worker.timeoutBaseSeconds + mediaSeconds * worker.timeoutPerMediaSecond) * factor;
  return Math.min(seconds, worker.timeoutMaxSeconds) * 1000;
}
