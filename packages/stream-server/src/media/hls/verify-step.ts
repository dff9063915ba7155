import type { MediaPlan } from '../choose-plan.js';
import { StreamAction } from '../ffmpeg-args.js';
import { MediaMessage } from '../ffmpeg-failure.js';
import { codecsFor, measureBandwidth, targetDurationOf, type CodecInfo } from '../hls-codecs.js';
import { buildHlsPlaylist, playlistDuration, type HlsSegment } from '../hls-playlist.js';
import { MediaError } from '../media-error.js';
import { playlistFrameRate } from '../media-limits.js';
import type { ProbeResult } from '../probe-media.js';
import { incompleteError } from './hls-errors.js';

/** What the published streams are: the variant attributes of a master playlist. */
export interface OutputDescription {
  /** RFC 6381 codecs, e.g. `avc1.640028,mp4a.40.2`. */
  codecs: string;
  width: number | null;
  height: number | null;
  frameRate: number | null;
}

/** A checked output, ready to be published. */
export interface VerifiedOutput extends OutputDescription {
  /** Sum of the segment durations. */
  durationSeconds: number;
  /** Peak segment bit rate in bits/s (RFC 8216 `BANDWIDTH`). */
  bandwidth: number;
  /** Total bits over total duration (`AVERAGE-BANDWIDTH`). */
  averageBandwidth: number;
  /** The VOD playlist (with ENDLIST) to store last. */
  playlist: string;
}

export interface VerifyOptions {
  /** Every segment ffmpeg listed, all stored. */
  segments: readonly HlsSegment[];
  /** Stored size of each segment in bytes. */
  sizes: readonly number[];
  /** The source's probe. */
  probe: ProbeResult;
  plan: MediaPlan;
  /** The probe of the first produced segment, when one was made (transcoded video). */
  firstSegment: ProbeResult | undefined;
  segmentSeconds: number;
}

/** Shortfall allowed between the probed and the produced duration: max(1 s, 2 %). */
export function durationTolerance(probedSeconds: number): number {
  return Math.max(1, probedSeconds * 0.02);
}

/**
 * The verify step, the last check before `ready`: the produced duration must reach the probed one (within
 * {@link durationTolerance}) and there must be a segment at all, else the source is incomplete (permanent). Then
 * it describes the output (codecs, size, frame rate), measures its bit rates from the stored sizes and builds the
 * VOD playlist.
 *
 * @example
 * const output = verifyOutput({ segments, sizes, probe, plan, firstSegment: undefined, segmentSeconds: 6 });
 * output.durationSeconds; // 12.0
 * @throws MediaError `incomplete` (permanent) for a short or empty output.
 */
export function verifyOutput(options: VerifyOptions): VerifiedOutput {
  const { segments, probe } = options;
  const probed = probe.durationSeconds;
  const durationSeconds = playlistDuration(segments);
  if (probed !== null && durationSeconds < probed - durationTolerance(probed)) {
    throw incompleteError(durationSeconds, probed);
  }
  if (segments.length === 0) {
    throw new MediaError('incomplete', MediaMessage.Damaged, { permanent: true });
  }
  const { bandwidth, averageBandwidth } = measureBandwidth(
    segments.map((segment, index) => ({
      bytes: options.sizes[index] ?? 0,
      durationSeconds: segment.durationSeconds,
    })),
    {
      targetDurationSeconds: targetDurationOf(
        segments.map((segment) => segment.durationSeconds),
        options.segmentSeconds,
      ),
    },
  );
  return {
    ...describeOutput(probe, options.plan, options.firstSegment),
    durationSeconds,
    bandwidth,
    averageBandwidth,
    playlist: buildHlsPlaylist({
      type: 'vod',
      segments: [...segments],
      minTargetDurationSeconds: options.segmentSeconds,
    }),
  };
}

/**
 * Describes the output from the source probe and the plan; for transcoded video from the probe of the first
 * produced segment when there is one (x264 picks the level), otherwise what the plan asks for.
 */
export function describeOutput(
  probe: ProbeResult,
  plan: MediaPlan,
  firstSegment: ProbeResult | undefined,
): OutputDescription {
  let video: CodecInfo['video'];
  if (plan.video === StreamAction.Copy) video = probe.video;
  else if (plan.video === StreamAction.Transcode) {
    video = firstSegment?.video ?? {
      codec: 'h264',
      profile: 'High',
      width: plan.width ?? probe.video?.width,
      height: plan.height ?? probe.video?.height,
      fps: probe.video?.fps,
    };
  }
  let audio: CodecInfo['audio'];
  if (plan.audio === StreamAction.Copy) audio = probe.audio;
  else if (plan.audio === StreamAction.Transcode)
    audio = firstSegment?.audio ?? { codec: 'aac', profile: 'LC' };
  const fps = video?.fps ?? probe.video?.fps;
  return {
    codecs: codecsFor({ video, audio }),
    width: video?.width ?? null,
    height: video?.height ?? null,
    frameRate: video ? playlistFrameRate(fps) : null,
  };
}
