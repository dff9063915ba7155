import fs from 'node:fs/promises';

import { MediaError } from '../media/media-error.js';

/** Bytes an unprivileged process may still write on the file system that holds `dir` (or its nearest parent). */
export async function freeDiskBytes(dir: string): Promise<number> {
  let at = dir;
  for (;;) {
    try {
      const stats = await fs.statfs(at);
      return Number(stats.bavail) * Number(stats.bsize);
    } catch (error) {
      const parent = at.replace(/\/[^/]*\/?$/, '') || '/';
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || parent === at) throw error;
      at = parent;
    }
  }
}

/** `1.5 GiB`, `300.0 MiB`, `12 KiB`: a readable size. */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} bytes` : `${value.toFixed(1)} ${units[unit]}`;
}

/** What the disk under `dir` looks like against `minFreeBytes`; `low` is never true when the check is off (0). */
export async function diskStatus(
  dir: string,
  minFreeBytes: number,
): Promise<{ freeBytes: number; low: boolean; description: string }> {
  const freeBytes = await freeDiskBytes(dir);
  const low = minFreeBytes > 0 && freeBytes < minFreeBytes;
  return {
    freeBytes,
    low,
    description: `disk full: ${formatBytes(freeBytes)} free under ${dir}, below MIN_FREE_DISK_BYTES (${formatBytes(minFreeBytes)})`,
  };
}

/**
 * Free bytes under which a temp folder counts as full once ffmpeg stopped short (less than any segment needs):
 * ffmpeg's HLS muxer can exit 0 after a segment it could not write.
 */
export const TEMP_FULL_BYTES = 1024 * 1024;

/**
 * Samples the free space under `dir` every `intervalMs` and keeps the least seen. ffmpeg's HLS muxer can exit 0
 * after a segment it could not write; by the time its short output is noticed, the space may be free again (a file
 * removed meanwhile), so "is the disk full now?" alone would blame the video for a disk that was full during its run.
 * `least()` takes one more sample and answers the least of all; `stop()` ends the sampling.
 */
export function watchLeastFree(dir: string, intervalMs = 250): { least(): Promise<number>; stop(): void } {
  let least = Number.POSITIVE_INFINITY;
  const sample = () =>
    freeDiskBytes(dir).then(
      (free) => {
        least = Math.min(least, free);
      },
      () => undefined,
    );
  void sample();
  const timer = setInterval(() => void sample(), intervalMs);
  timer.unref();
  return {
    async least() {
      await sample();
      return least;
    },
    stop: () => clearInterval(timer),
  };
}

/** True when `error` (or one of its causes) is the file system's "no space left" (ENOSPC) or "quota exceeded". */
export function isNoSpaceError(error: unknown, depth = 0): boolean {
  if (depth > 6 || typeof error !== 'object' || error === null) return false;
  const { code, message, cause, details } = error as {
    code?: unknown;
    message?: unknown;
    cause?: unknown;
    details?: { stderrTail?: unknown; cause?: unknown };
  };
  if (code === 'ENOSPC' || code === 'EDQUOT') return true;
  const texts = [message, details?.stderrTail].filter((text): text is string => typeof text === 'string');
  if (texts.some((text) => /No space left on device|ENOSPC|Disk quota exceeded/i.test(text))) return true;
  return isNoSpaceError(cause, depth + 1) || isNoSpaceError(details?.cause, depth + 1);
}

/** The transient failure of generation on a full disk: the video is not to blame, so it is retried. */
export function diskFullError(cause?: unknown): MediaError {
  return new MediaError(
    'storage',
    'The server ran out of disk space while preparing the video. It will be tried again.',
    { permanent: false, cause },
  );
}
