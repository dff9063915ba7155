import { buildInputArgs, hlsOutputArgs, PROGRESS_REPORTING_ARGS, type InputOptions } from './ffmpeg-args.js';

/**
 * Pure decisions for the lower rungs of the bitrate ladder: default bit rates, profile, where keyframes go so
 * that every rung cuts its segments at the source rendition's boundaries, the ffmpeg command line, and the check
 * that the result lines up.
 */

/**
 * Default video bit-rate caps (x264 `-maxrate`, kbit/s) by output height. Close to common streaming ladders for
 * 16:9 H.264 at 24–30 fps; x264 encodes at constant quality under the cap, so simple pictures (slides, a
 * screen) come out far smaller.
 */
export const DEFAULT_VIDEO_BITRATES_KBPS: readonly (readonly [height: number, kbps: number])[] = [
  [144, 200],
  [240, 400],
  [360, 700],
  [480, 1200],
  [540, 1800],
  [720, 2800],
  [1080, 5000],
  [1440, 9000],
  [2160, 16000],
];

/** Quality under the bit-rate cap (x264 CRF). */
export const DEFAULT_RENDITION_CRF = 23;

/**
 * Largest difference, in seconds, allowed between a rung's segment and the source rendition's (at least one frame
 * is allowed on top of this where frames last longer).
 */
export const SEGMENT_ALIGNMENT_TOLERANCE_SECONDS = 0.1;

/**
 * `hls_time` for the rung: far below any segment, so ffmpeg's HLS muxer cuts at every keyframe, and the only
 * keyframes are the forced ones.
 */
const CUT_AT_EVERY_KEYFRAME_SECONDS = 0.01;

/** Longest `-force_key_frames` list we pass (Linux refuses a single argument over 128 KiB). */
export const MAX_KEYFRAME_LIST_CHARS = 120_000;

/**
 * The video bit-rate cap for a height in kbit/s: the table value, linear between two rows, clamped at the ends.
 *
 * @example
 * defaultVideoBitrateKbps(720) // 2800
 * defaultVideoBitrateKbps(600) // 2200
 */
export function defaultVideoBitrateKbps(height: number): number {
  const table = DEFAULT_VIDEO_BITRATES_KBPS;
  const first = table[0] as readonly [number, number];
  const last = table[table.length - 1] as readonly [number, number];
  if (height <= first[0]) return first[1];
  if (height >= last[0]) return last[1];
  for (let i = 1; i < table.length; i += 1) {
    const [h1, k1] = table[i] as readonly [number, number];
    const [h0, k0] = table[i - 1] as readonly [number, number];
    if (height <= h1) return Math.round(k0 + ((k1 - k0) * (height - h0)) / (h1 - h0));
  }
  return last[1];
}

/** AAC bit rate in kbit/s: 128, or 96 for 360p and below. */
export function defaultAudioBitrateKbps(height: number): number {
  return height <= 360 ? 96 : 128;
}

/** H.264 profile: High from 720p up, Main below (the most widely decoded for small sizes). */
export function renditionProfile(height: number): 'high' | 'main' {
  return height >= 720 ? 'high' : 'main';
}

/** The output height rounded to an even number (4:2:0 needs it), at least 2. */
export function evenHeight(height: number): number {
  return Math.max(2, Math.round(height / 2) * 2);
}

export interface KeyframeTimesOptions {
  /**
   * Where the video's first frame sits in ffmpeg's output time: the video stream's start minus the container's
   * (`probe.video.startSeconds - probe.startSeconds`). The source rendition's durations are measured from the
   * first video frame, ffmpeg's output clock from the container's start.
   */
  videoStartSeconds?: number;
  /** Frame rate of the source; keyframes are requested a quarter of a frame early. Default 30. */
  fps?: number | undefined;
}

/**
 * Output times at which to force keyframes so segments break exactly where the source rendition's do: the
 * running sums of its EXTINF durations (except the last, which is the end), shifted to ffmpeg's output clock and
 * moved a quarter of a frame earlier, so the frame that starts each source segment is picked even when the sum
 * carries rounding error.
 *
 * @example
 * renditionKeyframeTimes([4, 4, 2], { fps: 25 }) // [3.99, 7.99]
 */
export function renditionKeyframeTimes(
  segmentDurations: readonly number[],
  options: KeyframeTimesOptions = {},
): number[] {
  const fps = options.fps !== undefined && options.fps > 0 ? options.fps : 30;
  const early = Math.min(0.05, Math.max(0.001, 0.25 / fps));
  const start = Math.max(0, options.videoStartSeconds ?? 0);
  const times: number[] = [];
  let sum = 0;
  for (const duration of segmentDurations.slice(0, -1)) {
    sum += duration;
    times.push(start + sum - early);
  }
  return times;
}

export interface RenditionArgsOptions extends InputOptions {
  /** Path or URL ffmpeg reads: the original source file. */
  input: string;
  /** Local directory that receives `playlist.m3u8` and `segment{N}.ts`. */
  outputDir: string;
  /** Absolute stream indexes in the input (`-map 0:N`), from the source's probe. */
  videoStreamIndex: number;
  /** Absent: the rung has no audio. */
  audioStreamIndex?: number | undefined;
  /** Output height (even); the width follows the display aspect ratio, rounded to even. */
  height: number;
  /** From {@link renditionKeyframeTimes}. */
  keyframeTimes: readonly number[];
  videoBitrateKbps: number;
  audioBitrateKbps: number;
  profile: 'high' | 'main';
  /** Default {@link DEFAULT_RENDITION_CRF}. */
  crf?: number;
  /** x264 preset; default `veryfast`. */
  preset?: string;
}

/**
 * ffmpeg arguments for one rung: H.264 (capped CRF: `-crf` under `-maxrate`/`-bufsize` = 2 s of the cap) and
 * AAC-LC stereo 48 kHz in MPEG-TS segments. Keyframes only at `keyframeTimes` (plus the first frame): no GOP
 * length, no scene cuts. The encoder keeps the input's time base so the forced times are not rounded to a frame
 * grid, and the HLS muxer cuts at every keyframe, so each keyframe starts a segment.
 *
 * @example
 * buildRenditionArgs({ input: url, outputDir: '/tmp/job', videoStreamIndex: 0, audioStreamIndex: 1, height: 360,
 *   keyframeTimes: [3.99, 7.99], videoBitrateKbps: 700, audioBitrateKbps: 96, profile: 'main' })
 * @throws TypeError for a keyframe list too long for one argument.
 */
export function buildRenditionArgs(options: RenditionArgsOptions): string[] {
  const height = evenHeight(options.height);
  const maxrate = Math.round(options.videoBitrateKbps);
  const keyframes = options.keyframeTimes.map((time) => time.toFixed(4)).join(',');
  if (keyframes.length > MAX_KEYFRAME_LIST_CHARS) {
    throw new TypeError(`${options.keyframeTimes.length} segment boundaries are too many for one ffmpeg run`);
  }
  const audio =
    options.audioStreamIndex === undefined
      ? ['-an']
      : [
          '-c:a',
          'aac',
          '-profile:a',
          'aac_low',
          '-b:a',
          `${Math.round(options.audioBitrateKbps)}k`,
          '-ac',
          '2',
          '-ar',
          '48000',
        ];
  return [
    ...PROGRESS_REPORTING_ARGS,
    '-y',
    ...buildInputArgs(options.input, options),
    '-i',
    options.input,
    '-map',
    `0:${options.videoStreamIndex}`,
    ...(options.audioStreamIndex === undefined ? [] : ['-map', `0:${options.audioStreamIndex}`]),
    '-c:v',
    'libx264',
    '-preset',
    options.preset ?? 'veryfast',
    '-profile:v',
    options.profile,
    '-pix_fmt',
    'yuv420p',
    '-crf',
    String(options.crf ?? DEFAULT_RENDITION_CRF),
    '-maxrate',
    `${maxrate}k`,
    '-bufsize',
    `${maxrate * 2}k`,
    // Width from the display aspect ratio (non-square pixels included), even; square pixels out.
    '-vf',
    `scale=w=2*round(oh*dar/2):h=${height},setsar=1`,
    '-fps_mode',
    'vfr',
    '-enc_time_base:v',
    '-1',
    ...(keyframes === '' ? [] : ['-force_key_frames', keyframes]),
    '-forced-idr',
    '1',
    '-g',
    '1000000',
    '-sc_threshold',
    '0',
    ...audio,
    ...hlsOutputArgs({
      outputDir: options.outputDir,
      segmentSeconds: CUT_AT_EVERY_KEYFRAME_SECONDS,
      playlistType: 'vod',
    }),
  ];
}

/** How far a rung's segment may differ from the source rendition's: 0.1 s, or one frame when that is longer. */
export function alignmentTolerance(fps: number | undefined): number {
  const frame = fps !== undefined && fps > 0 ? 1 / fps : 0;
  return Math.max(SEGMENT_ALIGNMENT_TOLERANCE_SECONDS, frame + 0.001);
}

/**
 * Compares a rung's segment durations with the source rendition's. Returns `null` when they line up (same count,
 * each within `toleranceSeconds`), otherwise a sentence saying where they differ.
 *
 * @example
 * segmentMismatch([4, 4, 2], [4, 6], 0.1) // 'it has 2 segments where the source rendition has 3'
 */
export function segmentMismatch(
  expected: readonly number[],
  actual: readonly number[],
  toleranceSeconds: number,
): string | null {
  if (expected.length !== actual.length) {
    return `it has ${actual.length} segments where the source rendition has ${expected.length}`;
  }
  for (let index = 0; index < expected.length; index += 1) {
    const want = expected[index] as number;
    const got = actual[index] as number;
    if (Math.abs(want - got) > toleranceSeconds) {
      return `segment ${index} lasts ${got.toFixed(3)} s where the source rendition's lasts ${want.toFixed(3)} s`;
    }
  }
  return null;
}
