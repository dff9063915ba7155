import { StreamAction, type HlsPlan } from './ffmpeg-args.js';
import { MediaError } from './media-error.js';
import {
  COPY_MAX_FRAME_RATE,
  COPY_MAX_H264_LEVEL,
  COPY_MAX_PIXELS,
  TRANSCODE_MAX_FRAME_RATE,
} from './media-limits.js';
import type { ProbeResult, ProbedVideo } from './probe-media.js';

/** How the input becomes HLS: per stream, and overall (`copy` only when nothing is re-encoded). */
export interface MediaPlan extends HlsPlan {
  mode: 'copy' | 'transcode';
}

export interface ChoosePlanOptions {
  /** Largest output size when video is transcoded, as a box that also fits portrait video. Default 1920×1080. */
  maxLongSide?: number;
  maxShortSide?: number;
}

/** Pixel formats every HLS player decodes: 8-bit 4:2:0. */
const COPYABLE_PIXEL_FORMATS = new Set(['yuv420p', 'yuvj420p']);

/**
 * H.264 profiles that are 8-bit 4:2:0 (High 10 / 4:2:2 / 4:4:4 are not played by browsers), stored upright: MPEG-TS
 * has no display matrix, so a rotated picture (a phone held upright) would play sideways if copied. And what
 * browsers decode: level 5.2 at most, at most 4096×2304 pixels and 120 frames per second.
 */
function isCopyableVideo(video: ProbedVideo): boolean {
  if (video.codec !== 'h264') return false;
  if (video.level !== undefined && video.level > COPY_MAX_H264_LEVEL) return false;
  if (video.width * video.height > COPY_MAX_PIXELS) return false;
  if (video.fps !== undefined && video.fps > COPY_MAX_FRAME_RATE) return false;
  if (video.rotation !== undefined && video.rotation !== 0) return false;
  if (video.pixFmt === undefined || !COPYABLE_PIXEL_FORMATS.has(video.pixFmt)) return false;
  return !/high 10|high 4:2:2|high 4:4:4/i.test(video.profile ?? '');
}

function even(value: number): number {
  return Math.max(2, Math.floor(value / 2) * 2);
}

/** Output size for a transcode: fits the box, keeps the aspect ratio, even numbers (x264 with 4:2:0 needs them). */
export function transcodeSize(
  width: number,
  height: number,
  options: ChoosePlanOptions = {},
): { width: number; height: number } {
  const longSide = options.maxLongSide ?? 1920;
  const shortSide = options.maxShortSide ?? 1080;
  const scale = Math.min(1, longSide / Math.max(width, height), shortSide / Math.min(width, height));
  return { width: even(width * scale), height: even(height * scale) };
}

/**
 * Decides copy or transcode per stream from a probe. Copy only what every HLS player plays: H.264 8-bit 4:2:0
 * video stored upright, level 5.2 or lower, up to 4096×2304 and 120 fps (faster video is transcoded at 60 fps), and
 * AAC audio with at most two channels; anything else (VP9, AV1, HEVC, MPEG-4, Opus, MP3,
 * 5.1 AAC, rotated phone video…) is re-encoded to H.264/AAC stereo. Cover art (attached pictures) never counts as
 * video: `probeMedia` leaves it out.
 *
 * @example
 * choosePlan(await probeMedia(url, { ffprobePath: 'ffprobe', timeoutMs: 60_000 })) // { video: 'copy', audio: 'transcode', mode: 'transcode', … }
 * @throws MediaError `unsupported` (permanent) when the input has neither video nor audio.
 */
export function choosePlan(probe: ProbeResult, options: ChoosePlanOptions = {}): MediaPlan {
  const { video, audio } = probe;
  if (!video && !audio) {
    throw new MediaError('unsupported', 'The file has no video or audio we can play.', { permanent: true });
  }
  const plan: MediaPlan = { video: StreamAction.None, audio: StreamAction.None, mode: 'copy' };
  if (video) {
    plan.videoStreamIndex = video.index;
    if (isCopyableVideo(video)) {
      plan.video = StreamAction.Copy;
    } else {
      plan.video = StreamAction.Transcode;
      // ffmpeg turns the picture upright before scaling (autorotate), so the output size is the displayed one.
      const sideways = video.rotation === 90 || video.rotation === 270;
      const [width, height] = sideways ? [video.height, video.width] : [video.width, video.height];
      if (width > 0 && height > 0) Object.assign(plan, transcodeSize(width, height, options));
      if (video.fps !== undefined && video.fps > COPY_MAX_FRAME_RATE)
        plan.maxFrameRate = TRANSCODE_MAX_FRAME_RATE;
    }
  }
  if (audio) {
    plan.audioStreamIndex = audio.index;
    plan.audio = audio.codec === 'aac' && audio.channels <= 2 ? StreamAction.Copy : StreamAction.Transcode;
  }
  plan.mode =
    plan.video === StreamAction.Transcode || plan.audio === StreamAction.Transcode ? 'transcode' : 'copy';
  return plan;
}
