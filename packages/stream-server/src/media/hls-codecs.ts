/**
 * What a master playlist says about each variant: the RFC 6381 `CODECS` string and the measured `BANDWIDTH` /
 * `AVERAGE-BANDWIDTH` (RFC 8216 4.3.4.2). Pure functions.
 */

/** The fields of a probe that decide the codecs string; a `ProbeResult` fits. */
export interface CodecInfo {
  video?:
    | {
        codec: string;
        /** ffprobe's profile name, e.g. `High`, `Main`, `Constrained Baseline`. */
        profile?: string | undefined;
        /** H.264 `level_idc` as ffprobe reports it (40 = level 4.0). */
        level?: number | undefined;
        /** Used to estimate the level when it is unknown. */
        width?: number | undefined;
        height?: number | undefined;
        fps?: number | undefined;
      }
    | undefined;
  audio?: { codec: string; profile?: string | undefined } | undefined;
}

/**
 * `profile_idc` and the constraint-flags byte for each profile name ffprobe prints. The flags are not in
 * ffprobe's output; these are the values x264 writes (Main sets constraint_set1, Constrained Baseline set0+set1)
 * and the ones seen in practice, which is what players compare against.
 */
const H264_PROFILES: Record<string, readonly [profileIdc: number, constraints: number]> = {
  'constrained baseline': [66, 0xc0],
  baseline: [66, 0x00],
  main: [77, 0x40],
  extended: [88, 0x00],
  high: [100, 0x00],
  'progressive high': [100, 0x08],
  'constrained high': [100, 0x0c],
  'high 10': [110, 0x00],
  'high 10 intra': [110, 0x10],
  'high 4:2:2': [122, 0x00],
  'high 4:2:2 intra': [122, 0x10],
  'high 4:4:4': [244, 0x00],
  'high 4:4:4 predictive': [244, 0x00],
  'high 4:4:4 intra': [244, 0x10],
  'cavlc 4:4:4': [44, 0x10],
  'cavlc 4:4:4 intra': [44, 0x10],
};

/** H.264 Table A-1: level_idc, max macroblocks per second, max frame size in macroblocks. */
const H264_LEVELS: readonly (readonly [levelIdc: number, maxMbps: number, maxFs: number])[] = [
  [10, 1_485, 99],
  [11, 3_000, 396],
  [12, 6_000, 396],
  [13, 11_880, 396],
  [20, 11_880, 396],
  [21, 19_800, 792],
  [22, 20_250, 1_620],
  [30, 40_500, 1_620],
  [31, 108_000, 3_600],
  [32, 216_000, 5_120],
  [40, 245_760, 8_192],
  [42, 522_240, 8_704],
  [50, 589_824, 22_080],
  [51, 983_040, 36_864],
  [52, 2_073_600, 36_864],
  [60, 4_177_920, 139_264],
  [61, 8_355_840, 139_264],
  [62, 16_711_680, 139_264],
];

/** MPEG-4 audio object types for AAC profile names ffprobe prints. */
const AAC_OBJECT_TYPES: Record<string, number> = {
  main: 1,
  lc: 2,
  ssr: 3,
  ltp: 4,
  'he-aac': 5,
  'he-aacv2': 29,
  ld: 23,
  eld: 39,
};

function hex2(value: number): string {
  return value.toString(16).padStart(2, '0');
}

/**
 * The lowest H.264 level whose frame size and macroblock rate fit `width`×`height` at `fps` (Table A-1; bit rate
 * and DPB limits are not considered). Used only when a stream's level is unknown.
 *
 * @example
 * estimateH264Level(1920, 1080, 30) // 40
 */
export function estimateH264Level(width: number, height: number, fps = 30): number {
  const mbWidth = Math.ceil(width / 16);
  const mbHeight = Math.ceil(height / 16);
  const frameSize = mbWidth * mbHeight;
  const rate = frameSize * (fps > 0 ? fps : 30);
  for (const [levelIdc, maxMbps, maxFs] of H264_LEVELS) {
    const side = Math.sqrt(8 * maxFs);
    if (frameSize <= maxFs && rate <= maxMbps && mbWidth <= side && mbHeight <= side) return levelIdc;
  }
  return 62;
}

/**
 * `avc1.PPCCLL` for an H.264 stream: profile_idc, constraint flags and level_idc in hex. An unknown profile is
 * taken as High; an unknown level is estimated from the size and frame rate (4.0 when those are unknown too).
 *
 * @example
 * h264CodecString({ profile: 'High', level: 31 }) // 'avc1.64001f'
 */
export function h264CodecString(video: NonNullable<CodecInfo['video']>): string {
  const [profileIdc, constraints] = H264_PROFILES[(video.profile ?? 'high').toLowerCase()] ?? [100, 0];
  const level =
    video.level !== undefined && video.level > 0
      ? video.level
      : video.width && video.height
        ? estimateH264Level(video.width, video.height, video.fps)
        : 40;
  return `avc1.${hex2(profileIdc)}${hex2(constraints)}${hex2(level)}`;
}

/**
 * The codecs string of an audio stream HLS carries in MPEG-TS: `mp4a.40.N` for AAC (2 = LC, 5 = HE-AAC,
 * 29 = HE-AACv2; LC when the profile is unknown), `mp4a.40.34` for MP3, `ac-3`, `ec-3`.
 *
 * @throws TypeError for other codecs.
 */
export function audioCodecString(audio: NonNullable<CodecInfo['audio']>): string {
  switch (audio.codec) {
    case 'aac':
      return `mp4a.40.${AAC_OBJECT_TYPES[(audio.profile ?? 'lc').toLowerCase()] ?? 2}`;
    case 'mp3':
      return 'mp4a.40.34';
    case 'ac3':
      return 'ac-3';
    case 'eac3':
      return 'ec-3';
    default:
      throw new TypeError(`no HLS codecs string for audio codec "${audio.codec}"`);
  }
}

/**
 * The RFC 6381 `CODECS` value of a variant: video first, then audio, comma-separated.
 *
 * @example
 * codecsFor({ video: { codec: 'h264', profile: 'High', level: 31 }, audio: { codec: 'aac', profile: 'LC' } })
 * // 'avc1.64001f,mp4a.40.2'
 * @throws TypeError for a video codec other than H.264, an audio codec HLS-in-TS does not carry, or no stream.
 */
export function codecsFor(info: CodecInfo): string {
  const parts: string[] = [];
  if (info.video) {
    if (info.video.codec !== 'h264') {
      throw new TypeError(`no HLS codecs string for video codec "${info.video.codec}"`);
    }
    parts.push(h264CodecString(info.video));
  }
  if (info.audio) parts.push(audioCodecString(info.audio));
  if (parts.length === 0) throw new TypeError('neither video nor audio to describe');
  return parts.join(',');
}

/** One published segment, as measured after encoding. */
export interface MeasuredSegment {
  bytes: number;
  durationSeconds: number;
}

export interface MeasuredBandwidth {
  /** Peak segment bit rate in bits/s, rounded up: the master playlist's `BANDWIDTH`. */
  bandwidth: number;
  /** Total bits over total duration, rounded up: `AVERAGE-BANDWIDTH`. */
  averageBandwidth: number;
}

/** `EXT-X-TARGETDURATION` as `buildHlsPlaylist` writes it: the longest segment rounded, at least `minimum`. */
export function targetDurationOf(durations: readonly number[], minimumSeconds = 0): number {
  return Math.max(1, Math.ceil(minimumSeconds), Math.round(Math.max(0, ...durations)));
}

/**
 * Measures what a media playlist really needs, from its segment sizes (whole MPEG-TS files, overhead included)
 * and durations. The peak follows RFC 8216 4.3.4.2: the largest bit rate of any run of consecutive segments
 * lasting between 0.5 and 1.5 target durations (so a short last segment cannot inflate it on its own); when the
 * whole playlist is shorter than half a target duration, its overall rate (never less than the average). Both
 * `0` for no segments.
 *
 * @param options.targetDurationSeconds the playlist's `EXT-X-TARGETDURATION`; default the longest segment
 *   rounded (as `buildHlsPlaylist` writes it without a minimum).
 * @example
 * measureBandwidth([{ bytes: 500_000, durationSeconds: 4 }, { bytes: 250_000, durationSeconds: 2 }])
 * // { bandwidth: 1_000_000, averageBandwidth: 1_000_000 }
 */
export function measureBandwidth(
  segments: readonly MeasuredSegment[],
  options: { targetDurationSeconds?: number } = {},
): MeasuredBandwidth {
  const usable = segments.filter((segment) => segment.durationSeconds > 0);
  if (usable.length === 0) return { bandwidth: 0, averageBandwidth: 0 };
  const totalBits = usable.reduce((sum, segment) => sum + segment.bytes * 8, 0);
  const totalSeconds = usable.reduce((sum, segment) => sum + segment.durationSeconds, 0);
  const target =
    options.targetDurationSeconds ?? targetDurationOf(usable.map((segment) => segment.durationSeconds));
  // A hair of slack so that EXTINF values printed with six decimals do not fall just outside the window.
  const shortest = target * 0.5 - 1e-6;
  const longest = target * 1.5 + 1e-6;

  let peak = 0;
  for (let start = 0; start < usable.length; start += 1) {
    let bits = 0;
    let seconds = 0;
    for (let end = start; end < usable.length; end += 1) {
      const segment = usable[end] as MeasuredSegment;
      bits += segment.bytes * 8;
      seconds += segment.durationSeconds;
      if (seconds > longest) break;
      if (seconds >= shortest) peak = Math.max(peak, bits / seconds);
    }
  }
  const average = totalBits / totalSeconds;
  // Never below the average (a window rule can miss a run of short segments at the very end).
  return { bandwidth: Math.ceil(Math.max(peak, average)), averageBandwidth: Math.ceil(average) };
}
