import { join } from 'node:path';

import { HLS_PLAYLIST_NAME, SEGMENT_FILE_PATTERN } from './hls-layout.js';

/**
 * Pure builders for the ffprobe and ffmpeg command lines. No I/O here: every decision about flags lives in one
 * place and is unit-tested, and `run-ffmpeg.ts` only runs what these return.
 */

/** Default HLS segment length in seconds. */
export const DEFAULT_SEGMENT_SECONDS = 6;

/** Default I/O timeout for reading the source, in seconds (a stalled read fails instead of hanging). */
export const DEFAULT_READ_TIMEOUT_SECONDS = 30;

/** What happens to one stream: kept bit for bit, re-encoded, or left out because the input has none. */
export const StreamAction = { Copy: 'copy', Transcode: 'transcode', None: 'none' } as const;
export type StreamAction = (typeof StreamAction)[keyof typeof StreamAction];

/** Options that apply to reading the input (placed before `-i`). */
export interface InputOptions {
  /** I/O timeout for the source; default {@link DEFAULT_READ_TIMEOUT_SECONDS}. */
  readTimeoutSeconds?: number;
}

/**
 * The container formats (ffmpeg demuxer names) an upload may be read as: files that hold their own media. Formats
 * that point elsewhere — HLS and DASH playlists, concat lists, SDP/RTSP, image sequences — are refused: an "upload"
 * that is really a playlist would make ffprobe and ffmpeg fetch whatever URLs it lists, from inside the service's
 * network (server-side request forgery). A demuxer matches when any of its names is listed (`mov` covers
 * `mov,mp4,m4a,3gp,3g2,mj2`, `matroska` covers `matroska,webm`).
 */
export const ACCEPTED_INPUT_FORMATS: readonly string[] = [
  ...['mov', 'matroska', 'avi', 'asf', 'flv', 'mpegts', 'mpeg', 'mxf', 'dv', 'nut', 'rm', 'ivf', 'gif'],
  ...['m4v', 'h264', 'hevc', 'mpegvideo'],
  ...['ogg', 'mp3', 'aac', 'wav', 'w64', 'flac', 'aiff', 'caf', 'amr'],
];

function isHttpUrl(input: string): boolean {
  return /^https?:\/\//i.test(input);
}

/**
 * Input options for `input`: only {@link ACCEPTED_INPUT_FORMATS} are read. `-rw_timeout` applies to every
 * protocol; the reconnect options only exist for HTTP (ffmpeg refuses options no protocol consumes) and let ffmpeg
 * resume with a range request when the server drops an idle connection, e.g. while the process is paused for
 * upload backpressure.
 */
export function buildInputArgs(input: string, options: InputOptions = {}): string[] {
  const seconds = options.readTimeoutSeconds ?? DEFAULT_READ_TIMEOUT_SECONDS;
  const args = [
    ...['-format_whitelist', ACCEPTED_INPUT_FORMATS.join(',')],
    ...['-rw_timeout', String(Math.round(seconds * 1_000_000))],
  ];
  if (isHttpUrl(input)) args.push('-reconnect', '1', '-reconnect_delay_max', '5');
  return args;
}

/**
 * ffprobe arguments printing format and streams as JSON on stdout.
 *
 * @example
 * spawn('ffprobe', buildProbeArgs('https://bucket.example/video.mp4?X-Amz-Signature=…'))
 */
export function buildProbeArgs(input: string, options: InputOptions = {}): string[] {
  return [
    '-hide_banner',
    '-v',
    'error',
    ...buildInputArgs(input, options),
    '-print_format',
    'json',
    '-show_format',
    '-show_streams',
    input,
  ];
}

/** How the input becomes HLS; produced by `choosePlan` from a probe. */
export interface HlsPlan {
  video: StreamAction;
  audio: StreamAction;
  /** Absolute stream index (`-map 0:N`) of the chosen video stream; required unless `video` is `none`. */
  videoStreamIndex?: number | undefined;
  /** Absolute stream index of the chosen audio stream; required unless `audio` is `none`. */
  audioStreamIndex?: number | undefined;
  /** Output frame size when transcoding video (even numbers); unknown → the input size rounded down to even. */
  width?: number | undefined;
  height?: number | undefined;
  /** When transcoding video: at most this many frames per second (for sources faster than browsers play). */
  maxFrameRate?: number | undefined;
}

export interface HlsArgsOptions extends InputOptions {
  /** Path or URL ffmpeg reads (a presigned GET URL in production). */
  input: string;
  /** Local directory that receives `playlist.m3u8` and `segment{N}.ts`. */
  outputDir: string;
  plan: HlsPlan;
  /** Target segment length; default {@link DEFAULT_SEGMENT_SECONDS}. */
  segmentSeconds?: number;
  /** x264 quality (lower is better, bigger); default 21. */
  crf?: number;
  /** x264 preset; default `veryfast`. */
  preset?: string;
  /** AAC bitrate when audio is transcoded; default `128k`. */
  audioBitrate?: string;
}

/**
 * A transcode's first segment is this long (or `segmentSeconds`, if shorter); the rest are `segmentSeconds`. The
 * first view waits for the first segment, and encoding 2 s of 720p is done in a third of the time 6 s take (about
 * 0.5 s instead of 1.5 s on two cores). A copy cannot choose: its cuts are the source's keyframes.
 */
export const FIRST_TRANSCODED_SEGMENT_SECONDS = 2;

/** x264's keyframe interval, in frames: longer than any segment, so only the forced keyframes are made. */
const NO_INTERVAL_KEYFRAMES = 1_000_000;

/**
 * Where a transcode forces its keyframes: at 0, at the end of the short first segment, then every `segmentSeconds`
 * (e.g. 0, 2, 8, 14 …). Each forced keyframe starts a segment, and no other keyframe is made.
 */
export function transcodeKeyframes(segmentSeconds: number): {
  firstSegmentSeconds: number;
  expression: string;
} {
  const first = Math.min(FIRST_TRANSCODED_SEGMENT_SECONDS, segmentSeconds);
  return {
    firstSegmentSeconds: first,
    expression:
      first < segmentSeconds
        ? `expr:gte(t,if(lt(n_forced,2),n_forced*${first},${first}+(n_forced-1)*${segmentSeconds}))`
        : `expr:gte(t,n_forced*${segmentSeconds})`,
  };
}

/**
 * The HLS muxer's `hls_time`: it cuts at the first keyframe at least this long after a segment's start. A transcode
 * makes keyframes only where segments start, so its short first segment's length lets the muxer cut at each of
 * them; a copy cuts at the source's keyframes once `segmentSeconds` have passed; audio-only cuts anywhere.
 */
function hlsCutSeconds(plan: HlsPlan, segmentSeconds: number): number {
  return plan.video === StreamAction.Transcode
    ? transcodeKeyframes(segmentSeconds).firstSegmentSeconds
    : segmentSeconds;
}

/** Video flags for the plan's video action. */
function videoArgs(options: HlsArgsOptions, segmentSeconds: number): string[] {
  const { plan } = options;
  if (plan.video === StreamAction.None) return ['-vn'];
  if (plan.video === StreamAction.Copy) return ['-c:v', 'copy'];
  const size =
    plan.width !== undefined && plan.height !== undefined
      ? `${plan.width}:${plan.height}`
      : 'trunc(iw/2)*2:trunc(ih/2)*2';
  return [
    '-c:v',
    'libx264',
    '-preset',
    options.preset ?? 'veryfast',
    '-crf',
    String(options.crf ?? 21),
    '-pix_fmt',
    'yuv420p',
    '-vf',
    plan.maxFrameRate === undefined ? `scale=${size}` : `scale=${size},fps=${plan.maxFrameRate}`,
    // Keep the input's timestamps; never synthesize a constant rate from a bogus r_frame_rate (browser WebM).
    '-fps_mode',
    'vfr',
    // A keyframe at every segment boundary and nowhere else (no scene-cut or interval keyframes), so the muxer cuts
    // exactly there.
    '-force_key_frames',
    transcodeKeyframes(segmentSeconds).expression,
    '-sc_threshold',
    '0',
    '-g',
    String(NO_INTERVAL_KEYFRAMES),
  ];
}

function audioArgs(options: HlsArgsOptions): string[] {
  const { plan } = options;
  if (plan.audio === StreamAction.None) return ['-an'];
  if (plan.audio === StreamAction.Copy) return ['-c:a', 'copy'];
  return ['-c:a', 'aac', '-b:a', options.audioBitrate ?? '128k', '-ac', '2', '-ar', '48000'];
}

function mapArgs(plan: HlsPlan): string[] {
  const args: string[] = [];
  if (plan.video !== StreamAction.None) {
    if (plan.videoStreamIndex === undefined) throw new TypeError('plan.videoStreamIndex is required');
    args.push('-map', `0:${plan.videoStreamIndex}`);
  }
  if (plan.audio !== StreamAction.None) {
    if (plan.audioStreamIndex === undefined) throw new TypeError('plan.audioStreamIndex is required');
    args.push('-map', `0:${plan.audioStreamIndex}`);
  }
  if (args.length === 0) throw new TypeError('plan has neither video nor audio');
  return args;
}

/**
 * ffmpeg arguments that read `input` and write an HLS EVENT playlist (rewritten atomically after every segment,
 * so a watcher can upload each listed segment while ffmpeg keeps going) plus MPEG-TS segments into `outputDir`.
 * `-progress pipe:1` reports progress as `key=value` lines on stdout; `-xerror` turns corrupt input packets
 * (a truncated file) into a non-zero exit instead of a silently short playlist.
 *
 * @example
 * buildHlsArgs({ input: url, outputDir: '/tmp/job', plan: { video: 'copy', audio: 'copy', videoStreamIndex: 0, audioStreamIndex: 1 } })
 */
export function buildHlsArgs(options: HlsArgsOptions): string[] {
  const segmentSeconds = options.segmentSeconds ?? DEFAULT_SEGMENT_SECONDS;
  if (!(segmentSeconds > 0)) throw new TypeError('segmentSeconds must be positive');
  return [
    ...PROGRESS_REPORTING_ARGS,
    '-xerror',
    '-y',
    ...buildInputArgs(options.input, options),
    '-i',
    options.input,
    ...mapArgs(options.plan),
    ...videoArgs(options, segmentSeconds),
    ...audioArgs(options),
    ...hlsOutputArgs({
      outputDir: options.outputDir,
      segmentSeconds: hlsCutSeconds(options.plan, segmentSeconds),
      playlistType: 'event',
      flags: 'independent_segments+temp_file',
    }),
  ];
}

/** Quiet ffmpeg that reports its progress as `key=value` lines on stdout (read by `runFfmpeg`). */
export const PROGRESS_REPORTING_ARGS: readonly string[] = [
  '-hide_banner',
  '-nostdin',
  '-loglevel',
  'warning',
  '-nostats',
  '-progress',
  'pipe:1',
];

/**
 * The output half of an HLS run: no subtitle or data streams, MPEG-TS segments `segment0.ts`, `segment1.ts`, … and
 * `playlist.m3u8` in `outputDir`, cut every `segmentSeconds` (at the next keyframe).
 */
export function hlsOutputArgs(options: {
  outputDir: string;
  segmentSeconds: number;
  playlistType: 'event' | 'vod';
  flags?: string;
}): string[] {
  return [
    '-sn',
    '-dn',
    '-max_muxing_queue_size',
    '4096',
    '-f',
    'hls',
    '-hls_time',
    String(options.segmentSeconds),
    '-hls_list_size',
    '0',
    '-hls_playlist_type',
    options.playlistType,
    ...(options.flags ? ['-hls_flags', options.flags] : []),
    '-hls_segment_type',
    'mpegts',
    '-start_number',
    '0',
    '-hls_segment_filename',
    join(options.outputDir, SEGMENT_FILE_PATTERN),
    join(options.outputDir, HLS_PLAYLIST_NAME),
  ];
}
