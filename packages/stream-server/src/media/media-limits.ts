import { MediaError } from './media-error.js';

/** What one upload may ask of the service (`MAX_DURATION_SECONDS`, `MAX_PIXELS`). */
export interface MediaLimits {
  /** Longest source accepted, in seconds. */
  maxDurationSeconds: number;
  /** Largest picture accepted, in pixels per frame (width × height). */
  maxPixels: number;
}

/** The defaults: 6 hours, 4096×2304. */
export const DEFAULT_MEDIA_LIMITS: Readonly<MediaLimits> = Object.freeze({
  maxDurationSeconds: 6 * 60 * 60,
  maxPixels: 4096 * 2304,
});

/**
 * What a copied H.264 stream may be, so that browsers play it: level 5.2 at most (level_idc 52), at most 4096×2304
 * pixels, at most 120 frames per second. Anything beyond is transcoded (and refused beyond `MAX_PIXELS`).
 */
export const COPY_MAX_H264_LEVEL = 52;
export const COPY_MAX_PIXELS = 4096 * 2304;
export const COPY_MAX_FRAME_RATE = 120;
/** A transcode of a source faster than {@link COPY_MAX_FRAME_RATE} is made at this rate. */
export const TRANSCODE_MAX_FRAME_RATE = 60;

/** `10 h`, `1 h 30 min`, `45 min`, `1 min 30 s`, `12 s`: a readable length. */
export function formatDuration(seconds: number): string {
  const total = Math.max(0, Math.round(seconds));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  if (hours > 0) return minutes > 0 ? `${hours} h ${minutes} min` : `${hours} h`;
  const rest = total % 60;
  if (minutes > 0) return rest > 0 ? `${minutes} min ${rest} s` : `${minutes} min`;
  return `${rest} s`;
}

/** The permanent failure of a source longer than the limit. */
export function durationLimitError(seconds: number, limits: MediaLimits): MediaError {
  const shown = formatDuration(seconds);
  const allowed = formatDuration(limits.maxDurationSeconds);
  return new MediaError(
    'unsupported',
    `The video is ${shown === allowed ? `longer than ${allowed}` : `${shown} long`}; this server accepts at most ` +
      `${allowed} (MAX_DURATION_SECONDS).`,
    { permanent: true },
  );
}

/** The permanent failure of a picture larger than the limit. */
export function pixelLimitError(width: number, height: number, limits: MediaLimits): MediaError {
  return new MediaError(
    'unsupported',
    `The video's picture is ${width}×${height} pixels; this server accepts at most ` +
      `${limits.maxPixels.toLocaleString('en-US')} pixels per frame (MAX_PIXELS, e.g. 4096×2304).`,
    { permanent: true },
  );
}

/**
 * Refuses, before any work starts, a source over the limits: longer than `maxDurationSeconds` or with a picture of
 * more than `maxPixels`. A duration that is not known (WebM written live) is checked while ffmpeg reads instead.
 *
 * @throws MediaError `unsupported` (permanent) with a message that names the setting.
 */
export function checkMediaLimits(
  media: {
    durationSeconds: number | null;
    video?: { width: number; height: number } | undefined;
  },
  limits: MediaLimits | undefined,
): void {
  if (!limits) return;
  if (media.durationSeconds !== null && media.durationSeconds > limits.maxDurationSeconds) {
    throw durationLimitError(media.durationSeconds, limits);
  }
  const { video } = media;
  if (video && video.width * video.height > limits.maxPixels) {
    throw pixelLimitError(video.width, video.height, limits);
  }
}

/**
 * The `FRAME-RATE` a playlist may state for `fps`: rounded to 3 decimals, or `null` (left out) when it is unknown
 * or not a rate a player shows (above 240), as a timestamp quirk can make ffprobe report (16384 fps).
 */
export function playlistFrameRate(fps: number | undefined | null): number | null {
  return fps !== undefined && fps !== null && fps > 0 && fps <= 240 ? Math.round(fps * 1000) / 1000 : null;
}
