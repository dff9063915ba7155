import { watch, type FSWatcher } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { MediaPlan } from './choose-plan.js';
import type { Mp4Track } from './mp4-tracks.js';
import { COPY_MAX_H264_LEVEL, COPY_MAX_PIXELS, type MediaLimits } from './media-limits.js';
import { StreamAction } from './ffmpeg-args.js';
import type { MediaProcess } from './run-ffmpeg.js';

/**
 * The plan most uploads get: an MP4/MOV whose stream 0 is H.264 8-bit 4:2:0 and stream 1 AAC stereo (what phones,
 * cameras, screen recorders and editors write), both copied.
 */
export const OPTIMISTIC_PLAN: Readonly<MediaPlan> = Object.freeze({
  video: StreamAction.Copy,
  audio: StreamAction.Copy,
  videoStreamIndex: 0,
  audioStreamIndex: 1,
  mode: 'copy',
});

/** Content types worth the guess; anything else declared (WebM, Matroska, AVI…) is probed first. */
const MP4_FAMILY = /^(video|audio)\/(mp4|quicktime|x-m4v|x-m4a)\b|^application\/(mp4|octet-stream)\b/i;

/** True when `plan` runs ffmpeg with exactly the arguments {@link OPTIMISTIC_PLAN} started it with. */
export function matchesOptimisticPlan(plan: MediaPlan): boolean {
  return samePlan(plan, OPTIMISTIC_PLAN);
}

/** Whether a source of this declared content type is worth starting a copy for before the probe answers. */
export function worthOptimisticCopy(contentType: string | undefined): boolean {
  return contentType === undefined || contentType === '' || MP4_FAMILY.test(contentType);
}

/** H.264 profiles that are always 8-bit (Baseline, Main, Extended) or 8-bit when the SPS says so (High). */
const EIGHT_BIT_H264_PROFILES = new Set([66, 77, 88, 100]);
/** AAC object types browsers decode: LC, HE-AAC (SBR), HE-AAC v2 (PS). */
const PLAYABLE_AAC_OBJECT_TYPES = new Set([2, 5, 29]);
/** `objectTypeIndication` of MPEG-4 audio in an `esds`. */
const MPEG4_AUDIO = 0x40;

/**
 * True when ffmpeg would copy this track as H.264 that browsers play: upright, 8-bit 4:2:0, one sample entry, level
 * 5.2 or lower, at most 4096×2304 (its frame rate is the probe's to check).
 */
function isPlayableH264Track(track: Mp4Track): boolean {
  const h264 = track.h264;
  return (
    track.levelIdc !== undefined &&
    track.levelIdc <= COPY_MAX_H264_LEVEL &&
    track.width !== undefined &&
    track.height !== undefined &&
    track.width * track.height <= COPY_MAX_PIXELS &&
    (track.sampleEntry === 'avc1' || track.sampleEntry === 'avc3') &&
    track.sampleEntryCount === 1 &&
    !track.rotated &&
    h264 !== undefined &&
    EIGHT_BIT_H264_PROFILES.has(h264.profileIdc) &&
    h264.chromaFormatIdc === 1 &&
    h264.bitDepthLuma === 8 &&
    h264.bitDepthChroma === 8
  );
}

/** True when ffmpeg would copy this track as AAC that browsers play: LC or HE, mono or stereo. */
function isPlayableAacTrack(track: Mp4Track): boolean {
  const aac = track.aac;
  const channels = aac?.channelConfiguration;
  return (
    track.sampleEntry === 'mp4a' &&
    track.sampleEntryCount === 1 &&
    aac?.objectTypeIndication === MPEG4_AUDIO &&
    aac.audioObjectType !== undefined &&
    PLAYABLE_AAC_OBJECT_TYPES.has(aac.audioObjectType) &&
    (channels === 1 || channels === 2)
  );
}

/**
 * The copy plan an MP4's own track layout (read with `readMp4Tracks`) shows the probe will choose, or `undefined`
 * when it cannot vouch for one. It vouches when the file's first tracks are at most one video track (upright H.264
 * 8-bit 4:2:0) and at most one audio track (AAC LC/HE, mono or stereo), in either order and at least one of
 * them, and no other video or audio track follows (tracks of other kinds after them — timecode, chapters — change
 * nothing ffmpeg maps). Anything else is left to the probe (decision 0010). With `limits`, it also vouches only
 * for a file whose index states a duration and a picture size within them: the probe refuses the others.
 */
export function copyPlanFromIndex(
  tracks: readonly Mp4Track[] | undefined,
  limits?: MediaLimits,
): MediaPlan | undefined {
  if (!tracks) return undefined;
  const media = tracks.filter((track) => track.handler === 'vide' || track.handler === 'soun');
  const videos = media.filter((track) => track.handler === 'vide');
  const audios = media.filter((track) => track.handler === 'soun');
  const [video] = videos;
  const [audio] = audios;
  // Stream indexes are track positions: the chosen tracks must be the first ones, so that none is in doubt.
  const leading = media.every((track, position) => tracks[position] === track);
  if (media.length === 0 || videos.length > 1 || audios.length > 1 || !leading) return undefined;
  if (video && !isPlayableH264Track(video)) return undefined;
  if (audio && !isPlayableAacTrack(audio)) return undefined;
  if (limits) {
    const duration = media[0]?.movieDurationSeconds;
    if (duration === undefined || duration > limits.maxDurationSeconds) return undefined;
    if (video && (video.width ?? Infinity) * (video.height ?? Infinity) > limits.maxPixels) return undefined;
  }
  return {
    video: video ? StreamAction.Copy : StreamAction.None,
    audio: audio ? StreamAction.Copy : StreamAction.None,
    ...(video ? { videoStreamIndex: tracks.indexOf(video) } : {}),
    ...(audio ? { audioStreamIndex: tracks.indexOf(audio) } : {}),
    mode: 'copy',
  };
}

/** True when `a` and `b` run ffmpeg with the same streams and actions (what the probe's check compares). */
export function samePlan(a: MediaPlan, b: MediaPlan): boolean {
  return (
    a.video === b.video &&
    a.audio === b.audio &&
    a.videoStreamIndex === b.videoStreamIndex &&
    a.audioStreamIndex === b.audioStreamIndex &&
    a.width === b.width &&
    a.height === b.height &&
    a.maxFrameRate === b.maxFrameRate
  );
}

/** A copy remux started before the probe has answered. */
export interface OptimisticCopy {
  /** The temp folder it writes into (the caller removes it either way). */
  readonly dir: string;
  /**
   * Hands over the process (running again if it had paused) when `plan` is the one it was started with and it has
   * not failed. Otherwise stops it and resolves `undefined`.
   */
  adopt(plan: MediaPlan): Promise<{ process: MediaProcess; dir: string } | undefined>;
  /** Stops the process (if still running) and waits for it to exit. */
  discard(): Promise<void>;
}

export interface StartOptimisticCopyOptions {
  tempRoot: string;
  /** The job's signal: aborting it stops the process too. */
  signal: AbortSignal;
  /** Starts ffmpeg for `plan` writing into `outputDir`, stopped by `signal`. */
  start(plan: MediaPlan, outputDir: string, signal: AbortSignal): MediaProcess;
  /** Name of the playlist ffmpeg rewrites after each segment (its first write means a segment is done). */
  playlistName: string;
}

/**
 * Starts the {@link OPTIMISTIC_PLAN} remux while the source is still being probed, so the first segment does not
 * wait for two sequential reads of the source's index (ffprobe's, then ffmpeg's — for an hour-long MP4 a
 * few-MB `moov` each). It pauses itself after its first segment so that temp space stays at a few segments until
 * the caller adopts it and starts uploading; a mismatching plan discards it (decision 0010).
 */
export async function startOptimisticCopy(options: StartOptimisticCopyOptions): Promise<OptimisticCopy> {
  const dir = await mkdtemp(join(options.tempRoot, 'hls-'));
  const own = new AbortController();
  const ffmpeg = options.start({ ...OPTIMISTIC_PLAN }, dir, AbortSignal.any([options.signal, own.signal]));
  let failed = false;
  // Observed at once so that an early failure (say, no stream 1) is never an unhandled rejection.
  const settled = ffmpeg.result.then(
    () => undefined,
    () => {
      failed = true;
    },
  );
  let paused = false;
  let watcher: FSWatcher | undefined;
  const stopWatching = () => {
    watcher?.close();
    watcher = undefined;
  };
  try {
    watcher = watch(dir, (_event, name) => {
      if (paused || name === null || String(name) !== options.playlistName) return;
      paused = ffmpeg.pause();
      stopWatching();
    });
    watcher.on('error', stopWatching);
  } catch {
    // Without events it simply keeps going; the caller's backpressure pauses it once adopted.
  }
  void settled.then(stopWatching);

  const discard = async () => {
    stopWatching();
    own.abort();
    if (paused) ffmpeg.resume();
    await settled;
    await rm(dir, { recursive: true, force: true });
  };

  return {
    dir,
    async adopt(plan) {
      stopWatching();
      if (!failed && matchesOptimisticPlan(plan)) {
        if (paused) ffmpeg.resume();
        return { process: ffmpeg, dir };
      }
      await discard();
      return undefined;
    },
    discard,
  };
}
