import { buildProbeArgs } from './ffmpeg-args.js';
import { describeFfmpegFailure, MediaMessage } from './ffmpeg-failure.js';
import { MediaError } from './media-error.js';
import type { LaunchPriority, ProcessLauncher } from './process-launcher.js';
import { startMediaProcess } from './run-ffmpeg.js';

export interface ProbedVideo {
  /** Absolute stream index in the input (`-map 0:N`). */
  index: number;
  codec: string;
  profile?: string | undefined;
  /** ffprobe's `level`: for H.264 the `level_idc` (31 = level 3.1); absent when ffprobe does not know it. */
  level?: number | undefined;
  pixFmt?: string | undefined;
  width: number;
  height: number;
  fps?: number | undefined;
  /** Timestamp of the stream's first frame, in seconds (ffprobe's stream `start_time`). */
  startSeconds?: number | undefined;
  /**
   * How far the stored picture must be turned for display, in degrees (0, 90, 180, 270; other angles as given):
   * phones store portrait video as landscape frames plus a display matrix. Absent when there is none.
   */
  rotation?: number | undefined;
}

export interface ProbedAudio {
  index: number;
  codec: string;
  /** ffprobe's profile, e.g. `LC`, `HE-AAC`, `HE-AACv2` for AAC. */
  profile?: string | undefined;
  channels: number;
  sampleRate: number;
}

export interface ProbeResult {
  /**
   * Duration of the input in seconds. `null` only for Matroska/WebM written live (browser MediaRecorder files
   * carry no duration at all); anything else without a duration is rejected as `invalid_input`.
   */
  durationSeconds: number | null;
  /** ffprobe's format name, e.g. `mov,mp4,m4a,3gp,3g2,mj2` or `matroska,webm`. */
  formatName: string;
  /**
   * The container's start time in seconds (ffprobe's format `start_time`, the earliest stream start). ffmpeg
   * moves this instant to 0 in its output, so a stream starts at its own `startSeconds` minus this one.
   */
  startSeconds?: number | undefined;
  /** The first video stream that is not cover art. */
  video?: ProbedVideo | undefined;
  /** The first audio stream (the default one when several are marked). */
  audio?: ProbedAudio | undefined;
}

export interface ProbeMediaOptions {
  /** ffprobe executable; default `ffprobe` on PATH. */
  ffprobePath?: string | undefined;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  /** I/O timeout while reading the input, in seconds. */
  readTimeoutSeconds?: number | undefined;
  /** What starts ffprobe: the worker's launcher helper, or `directLauncher` without a server. */
  launcher: ProcessLauncher;
  /** Its turn when the launcher bounds processes; default a first view's. */
  priority?: LaunchPriority | undefined;
}

/** Container formats ffprobe "recognizes" in any bytes (text art); never a video. */
const NOT_MEDIA_FORMATS = new Set(['bin', 'tty', 'xbin', 'adf', 'idf', 'ansi', 'txt']);
/** Video "codecs" that are text or single images rather than moving pictures. */
const NOT_VIDEO_CODECS = new Set(['bintext', 'xbin', 'idf', 'ansi', 'ttf', 'otf']);

type Json = Record<string, unknown>;

function asRecord(value: unknown): Json | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : undefined;
}

function asNumber(value: unknown): number | undefined {
  const number =
    typeof value === 'number' ? value : typeof value === 'string' && value !== '' ? Number(value) : NaN;
  return Number.isFinite(number) ? number : undefined;
}

function asString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' && value !== 'unknown' ? value : undefined;
}

/**
 * The display rotation of a video stream: the display matrix's `rotation` side data (ffprobe 5+), or the older
 * `rotate` tag. Multiples of 90 are normalised to 0–270 (ffprobe's sign convention does not matter to us: 90 and
 * 270 both swap width and height).
 */
function parseRotation(stream: Json): number | undefined {
  const sideData = Array.isArray(stream.side_data_list) ? stream.side_data_list.map(asRecord) : [];
  const degrees =
    sideData.map((entry) => asNumber(entry?.rotation)).find((value) => value !== undefined) ??
    asNumber(asRecord(stream.tags)?.rotate);
  if (degrees === undefined) return undefined;
  return degrees % 90 === 0 ? ((degrees % 360) + 360) % 360 : degrees;
}

/** ffprobe writes -99 for an unknown level. */
function positive(value: number | undefined): number | undefined {
  return value !== undefined && value > 0 ? value : undefined;
}

function parseRate(value: unknown): number | undefined {
  const match = typeof value === 'string' ? /^(\d+)\/(\d+)$/.exec(value) : null;
  if (!match) return undefined;
  const rate = Number(match[1]) / Number(match[2]);
  return Number.isFinite(rate) && rate > 0 ? rate : undefined;
}

function notAVideo(details: { stderrTail?: string; command?: string; cause?: unknown } = {}): MediaError {
  return new MediaError('invalid_input', MediaMessage.NotAVideo, { permanent: true, ...details });
}

/**
 * Turns ffprobe's `-show_format -show_streams` JSON into a {@link ProbeResult}. Pure.
 *
 * @throws MediaError `invalid_input` (permanent) for output that does not describe a playable file.
 */
export function parseProbeOutput(json: string): ProbeResult {
  let root: Json | undefined;
  try {
    root = asRecord(JSON.parse(json));
  } catch (cause) {
    throw notAVideo({ cause });
  }
  const format = asRecord(root?.format);
  const formatName = asString(format?.format_name);
  if (!format || !formatName || NOT_MEDIA_FORMATS.has(formatName)) throw notAVideo();
  const streams = Array.isArray(root?.streams) ? root.streams.map(asRecord) : [];

  let video: ProbedVideo | undefined;
  let audio: ProbedAudio | undefined;
  let defaultAudioChosen = false;
  const streamDurations: number[] = [];
  for (const stream of streams) {
    if (!stream) continue;
    const index = asNumber(stream.index);
    const codec = asString(stream.codec_name);
    if (index === undefined || codec === undefined) continue;
    const disposition = asRecord(stream.disposition);
    const isCoverArt = asNumber(disposition?.attached_pic) === 1;
    const duration = asNumber(stream.duration);
    if (stream.codec_type === 'video' && !isCoverArt && !NOT_VIDEO_CODECS.has(codec)) {
      if (duration !== undefined) streamDurations.push(duration);
      video ??= {
        index,
        codec,
        profile: asString(stream.profile),
        level: positive(asNumber(stream.level)),
        pixFmt: asString(stream.pix_fmt),
        width: asNumber(stream.width) ?? 0,
        height: asNumber(stream.height) ?? 0,
        fps: parseRate(stream.avg_frame_rate) ?? parseRate(stream.r_frame_rate),
        startSeconds: asNumber(stream.start_time),
        rotation: parseRotation(stream),
      };
    } else if (stream.codec_type === 'audio') {
      if (duration !== undefined) streamDurations.push(duration);
      const isDefault = asNumber(disposition?.default) === 1;
      if (!audio || (isDefault && !defaultAudioChosen)) {
        audio = {
          index,
          codec,
          profile: asString(stream.profile),
          channels: asNumber(stream.channels) ?? 0,
          sampleRate: asNumber(stream.sample_rate) ?? 0,
        };
        defaultAudioChosen = isDefault;
      }
    }
  }

  const formatDuration = asNumber(format.duration);
  let durationSeconds: number | null =
    formatDuration !== undefined && formatDuration > 0
      ? formatDuration
      : streamDurations.length > 0
        ? Math.max(...streamDurations)
        : null;
  if (durationSeconds !== null && !(durationSeconds > 0)) durationSeconds = null;
  const liveMatroska = /matroska|webm/.test(formatName) && (video !== undefined || audio !== undefined);
  if (durationSeconds === null && !liveMatroska) throw notAVideo();
  return { durationSeconds, formatName, startSeconds: asNumber(format.start_time), video, audio };
}

/**
 * Runs ffprobe on a path or URL (it reads URLs with range requests) and returns its JSON output.
 *
 * @throws MediaError `invalid_input` for unreadable input, `storage` for an unreachable source, `timeout`,
 *   `aborted`.
 */
export async function runFfprobe(input: string, options: ProbeMediaOptions): Promise<string> {
  const run = startMediaProcess({
    bin: options.ffprobePath ?? 'ffprobe',
    args: buildProbeArgs(input, { readTimeoutSeconds: options.readTimeoutSeconds }),
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    launcher: options.launcher,
    priority: options.priority,
    collectStdout: true,
    describeFailure: (tail) => describeFfmpegFailure(tail, 'probe'),
  });
  return (await run.result).stdout;
}

/**
 * Probes a path or URL: duration, container, the video stream (cover art ignored) and the audio stream.
 *
 * @example
 * const probe = await probeMedia(presignedUrl, { ffprobePath: '/usr/bin/ffprobe', timeoutMs: 60_000, launcher });
 * probe.durationSeconds; // 12.0
 * @throws MediaError `invalid_input` (permanent) for empty files, random bytes and anything without a duration.
 */
export async function probeMedia(input: string, options: ProbeMediaOptions): Promise<ProbeResult> {
  return parseProbeOutput(await runFfprobe(input, options));
}
