import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';

import type { HlsLogger, HlsSink } from './generate-hls.js';
import { LaunchPriority, type ProcessLauncher } from './process-launcher.js';
import { BACKGROUND_NICENESS, runFfmpeg } from './run-ffmpeg.js';
import {
  buildPosterArgs,
  buildStoryboardArgs,
  buildStoryboardVtt,
  jpegSize,
  POSTER_POSITION,
  STORYBOARD_TILE_WIDTH,
  storyboardLayout,
} from './thumbnail-args.js';
import { ThumbnailFile } from './hls-layout.js';

export interface GenerateThumbnailsOptions {
  /** What ffmpeg reads: the source's presigned GET URL (or a path). */
  sourceUrl: string;
  /** The HLS output prefix, ending in `/`; the files are stored beside the playlist. */
  outputPrefix: string;
  /** The video's duration in seconds (the produced HLS duration). */
  durationSeconds: number;
  sink: Pick<HlsSink, 'putFile' | 'putObject'>;
  /** A per-job directory is made under it and removed on every path. */
  tempRoot: string;
  ffmpegPath?: string;
  /** What starts ffmpeg and ffprobe: the worker's launcher helper, or `directLauncher` without a server. */
  launcher: ProcessLauncher;
  /** Wall-clock limit for each ffmpeg run; default 2 minutes + 1 s per 10 s of video. */
  timeoutMs?: number;
  readTimeoutSeconds?: number;
  signal?: AbortSignal;
  logger?: HlsLogger;
  /** Told why a part could not be made (it is also logged, and left out of the result). */
  onFailure?(part: 'poster' | 'storyboard', error: unknown): void;
}

/** Storage keys of what was made; `null` for what could not be made. */
export interface ThumbnailsResult {
  posterKey: string | null;
  storyboardKey: string | null;
}

const silentLogger: HlsLogger = { info() {}, warn() {}, error() {} };

/**
 * Makes a poster (`poster.jpg`, the frame at 10 % of the duration, at most 1280 wide) and a storyboard
 * (`storyboard.jpg`, a sprite of 160-wide thumbnails, at most 100, plus `storyboard.vtt` whose cues point into it)
 * and stores them under `outputPrefix`. Never throws: each part that fails is logged and left out (`null`), since a
 * video plays without them. Call only for videos that have a video stream.
 *
 * @example
 * const { posterKey, storyboardKey } = await generateThumbnails({ sourceUrl, outputPrefix: 'videos/u/v_hls/',
 *   durationSeconds: 62.4, sink: storage, tempRoot: '/var/tmp/notetaker' });
 */
export async function generateThumbnails(options: GenerateThumbnailsOptions): Promise<ThumbnailsResult> {
  const logger = options.logger ?? silentLogger;
  const bin = options.ffmpegPath ?? 'ffmpeg';
  const duration = options.durationSeconds;
  const timeoutMs = options.timeoutMs ?? 120_000 + duration * 100;
  const result: ThumbnailsResult = { posterKey: null, storyboardKey: null };
  if (!(duration > 0) || options.signal?.aborted) return result;

  let dir: string | undefined;
  try {
    await mkdir(options.tempRoot, { recursive: true });
    dir = await mkdtemp(join(options.tempRoot, 'thumbs-'));
  } catch (error) {
    logger.warn({ err: error }, 'thumbnails: no temp folder; going on without poster and storyboard');
    return result;
  }
  const work = dir;
  const common = {
    input: options.sourceUrl,
    ...(options.readTimeoutSeconds === undefined ? {} : { readTimeoutSeconds: options.readTimeoutSeconds }),
  };

  const poster = async () => {
    const file = join(work, ThumbnailFile.Poster);
    await runFfmpeg({
      launcher: options.launcher,
      bin,
      args: buildPosterArgs({ ...common, output: file, atSeconds: duration * POSTER_POSITION }),
      timeoutMs,
      signal: options.signal,
      niceness: BACKGROUND_NICENESS,
      priority: LaunchPriority.Background,
    });
    if (!jpegSize(await readFile(file))) throw new Error('ffmpeg wrote no JPEG poster');
    const key = options.outputPrefix + ThumbnailFile.Poster;
    await options.sink.putFile(key, file, {
      contentType: 'image/jpeg',
      finalFile: true,
      ...signal(options.signal),
    });
    return key;
  };

  const storyboard = async () => {
    const layout = storyboardLayout(duration);
    const file = join(work, ThumbnailFile.Sprite);
    await runFfmpeg({
      launcher: options.launcher,
      bin,
      args: buildStoryboardArgs({ ...common, output: file, layout }),
      timeoutMs,
      signal: options.signal,
      niceness: BACKGROUND_NICENESS,
      priority: LaunchPriority.Background,
    });
    const size = jpegSize(await readFile(file));
    if (!size || size.width !== layout.columns * STORYBOARD_TILE_WIDTH || size.height % layout.rows !== 0) {
      throw new Error(
        `unexpected storyboard sprite size ${JSON.stringify(size)} for ${JSON.stringify(layout)}`,
      );
    }
    const vtt = buildStoryboardVtt({
      layout,
      durationSeconds: duration,
      tileWidth: STORYBOARD_TILE_WIDTH,
      tileHeight: size.height / layout.rows,
    });
    await options.sink.putFile(options.outputPrefix + ThumbnailFile.Sprite, file, {
      contentType: 'image/jpeg',
      finalFile: true,
      ...signal(options.signal),
    });
    // The VTT last: it exists only when the sprite it points into does.
    const key = options.outputPrefix + ThumbnailFile.Storyboard;
    await options.sink.putObject(key, vtt, {
      contentType: 'text/vtt; charset=utf-8',
      ...signal(options.signal),
    });
    return key;
  };

  try {
    // One after the other: the machine is shared with segment work of other jobs.
    result.posterKey = await poster().catch((error: unknown) => {
      logger.warn({ err: error }, 'thumbnails: the poster could not be made; going on without it');
      options.onFailure?.('poster', error);
      return null;
    });
    result.storyboardKey = await storyboard().catch((error: unknown) => {
      logger.warn({ err: error }, 'thumbnails: the storyboard could not be made; going on without it');
      options.onFailure?.('storyboard', error);
      return null;
    });
    return result;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

function signal(value: AbortSignal | undefined): { signal?: AbortSignal } {
  return value ? { signal: value } : {};
}
