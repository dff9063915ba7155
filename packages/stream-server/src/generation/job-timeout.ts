import type { Config } from '../config/load-config.js';

/**
 * ffmpeg's wall-clock limit for work on a video of `mediaSeconds`: `JOB_TIMEOUT_BASE_SECONDS` plus
 * `JOB_TIMEOUT_PER_MEDIA_SECOND` for each second of media, in milliseconds.
 */
export function jobTimeoutMs(worker: Config['worker'], mediaSeconds: number): number {
  return (worker.timeoutBaseSeconds + mediaSeconds * worker.timeoutPerMediaSecond) * 1000;
}
