import { buildInputArgs, type InputOptions } from './ffmpeg-args.js';
import { ThumbnailFile } from './hls-layout.js';

/**
 * Pure builders for the poster and storyboard made after HLS generation: the ffmpeg command lines, the sprite
 * layout and the WebVTT that points into the sprite. No I/O here.
 */

/** Widest poster, in pixels (smaller videos keep their own width). */
export const POSTER_MAX_WIDTH = 1280;
/** Where the poster frame is taken, as a fraction of the duration. */
export const POSTER_POSITION = 0.1;
/** Width of one storyboard thumbnail, in pixels. */
export const STORYBOARD_TILE_WIDTH = 160;
/** Most thumbnails in one storyboard. */
export const STORYBOARD_MAX_TILES = 100;
/** Thumbnails per sprite row. */
export const STORYBOARD_COLUMNS = 10;
/**
 * From this interval on, only keyframes are decoded for the storyboard: a long video is then read in a fraction of
 * the time, and a thumbnail may come from up to one keyframe interval earlier than its cue.
 */
export const KEYFRAMES_ONLY_FROM_SECONDS = 10;

/** How a storyboard covers a video: one tile every `intervalSeconds`, `count` tiles in a `columns`×`rows` grid. */
export interface StoryboardLayout {
  intervalSeconds: number;
  count: number;
  columns: number;
  rows: number;
}

/**
 * The storyboard layout for a duration: the smallest whole-second interval that needs at most `maxTiles` tiles.
 *
 * @example
 * storyboardLayout(8.3); // { intervalSeconds: 1, count: 9, columns: 9, rows: 1 }
 * storyboardLayout(3600); // { intervalSeconds: 36, count: 100, columns: 10, rows: 10 }
 */
export function storyboardLayout(
  durationSeconds: number,
  options: { maxTiles?: number; columns?: number } = {},
): StoryboardLayout {
  if (!(durationSeconds > 0) || !Number.isFinite(durationSeconds)) {
    throw new TypeError('durationSeconds must be a positive number');
  }
  const maxTiles = options.maxTiles ?? STORYBOARD_MAX_TILES;
  const maxColumns = options.columns ?? STORYBOARD_COLUMNS;
  const intervalSeconds = Math.max(1, Math.ceil(durationSeconds / maxTiles));
  const count = Math.max(1, Math.ceil(durationSeconds / intervalSeconds));
  const columns = Math.min(maxColumns, count);
  return { intervalSeconds, count, columns, rows: Math.ceil(count / columns) };
}

const commonArgs = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-nostats', '-y'];

/**
 * ffmpeg arguments writing one JPEG frame at `atSeconds`, at most `maxWidth` wide (aspect kept, even height).
 * The seek is placed before `-i`, so over HTTP ffmpeg jumps with a range request instead of reading up to it.
 *
 * @example
 * buildPosterArgs({ input: url, output: '/tmp/job/poster.jpg', atSeconds: 6.2 })
 */
export function buildPosterArgs(
  options: InputOptions & { input: string; output: string; atSeconds: number; maxWidth?: number },
): string[] {
  const maxWidth = options.maxWidth ?? POSTER_MAX_WIDTH;
  return [
    ...commonArgs,
    ...buildInputArgs(options.input, options),
    '-ss',
    Math.max(0, options.atSeconds).toFixed(3),
    '-i',
    options.input,
    '-map',
    '0:v:0',
    '-an',
    '-sn',
    '-dn',
    '-frames:v',
    '1',
    '-vf',
    `scale='min(${maxWidth},iw)':-2`,
    '-q:v',
    '3',
    '-f',
    'image2',
    options.output,
  ];
}

/**
 * ffmpeg arguments writing the storyboard sprite: one `tileWidth`-wide thumbnail every `layout.intervalSeconds`,
 * laid out row by row in a `columns`×`rows` grid, as one JPEG. With `keyframesOnly` only keyframes are decoded.
 *
 * @example
 * buildStoryboardArgs({ input: url, output: '/tmp/job/storyboard.jpg', layout: storyboardLayout(600) })
 */
export function buildStoryboardArgs(
  options: InputOptions & {
    input: string;
    output: string;
    layout: StoryboardLayout;
    tileWidth?: number;
    keyframesOnly?: boolean;
  },
): string[] {
  const { layout } = options;
  const tileWidth = options.tileWidth ?? STORYBOARD_TILE_WIDTH;
  const keyframesOnly = options.keyframesOnly ?? layout.intervalSeconds >= KEYFRAMES_ONLY_FROM_SECONDS;
  return [
    ...commonArgs,
    ...buildInputArgs(options.input, options),
    ...(keyframesOnly ? ['-skip_frame', 'nokey'] : []),
    '-i',
    options.input,
    '-map',
    '0:v:0',
    '-an',
    '-sn',
    '-dn',
    '-vf',
    `fps=1/${layout.intervalSeconds},scale=${tileWidth}:-2,tile=${layout.columns}x${layout.rows}`,
    '-frames:v',
    '1',
    '-q:v',
    '5',
    '-f',
    'image2',
    options.output,
  ];
}

function vttTime(seconds: number): string {
  const ms = Math.round(seconds * 1000);
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = Math.floor((ms % 60_000) / 1000);
  const pad = (value: number, width = 2) => String(value).padStart(width, '0');
  return `${pad(h)}:${pad(m)}:${pad(s)}.${pad(ms % 1000, 3)}`;
}

/**
 * The storyboard WebVTT: one cue per tile, `start --> end` then `<sprite>#xywh=x,y,w,h`. Cues follow each other
 * without gaps from 0 to `durationSeconds`. The sprite reference is relative (the playback endpoint makes it an
 * absolute presigned URL).
 *
 * @example
 * buildStoryboardVtt({ layout: storyboardLayout(2.5), durationSeconds: 2.5, tileWidth: 160, tileHeight: 90 });
 * // 'WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nstoryboard.jpg#xywh=0,0,160,90\n\n…'
 */
export function buildStoryboardVtt(options: {
  layout: StoryboardLayout;
  durationSeconds: number;
  tileWidth: number;
  tileHeight: number;
  sprite?: string;
}): string {
  const { layout, durationSeconds, tileWidth, tileHeight } = options;
  const sprite = options.sprite ?? ThumbnailFile.Sprite;
  const lines = ['WEBVTT', ''];
  for (let i = 0; i < layout.count; i += 1) {
    const start = i * layout.intervalSeconds;
    const end =
      i === layout.count - 1 ? durationSeconds : Math.min(durationSeconds, start + layout.intervalSeconds);
    if (end <= start) break;
    const x = (i % layout.columns) * tileWidth;
    const y = Math.floor(i / layout.columns) * tileHeight;
    lines.push(
      `${vttTime(start)} --> ${vttTime(end)}`,
      `${sprite}#xywh=${x},${y},${tileWidth},${tileHeight}`,
      '',
    );
  }
  return lines.join('\n');
}

/**
 * Width and height of a baseline or progressive JPEG, read from its frame header; `null` when `bytes` is not one.
 *
 * @example
 * jpegSize(await readFile('storyboard.jpg')); // { width: 1600, height: 1200 }
 */
export function jpegSize(bytes: Uint8Array): { width: number; height: number } | null {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return null;
  let at = 2;
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) return null;
    const marker = bytes[at + 1] ?? 0;
    if (marker === 0xff) {
      at += 1;
      continue;
    }
    const length = ((bytes[at + 2] ?? 0) << 8) | (bytes[at + 3] ?? 0);
    const isFrameHeader =
      marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrameHeader) {
      if (at + 9 > bytes.length) return null;
      const height = ((bytes[at + 5] ?? 0) << 8) | (bytes[at + 6] ?? 0);
      const width = ((bytes[at + 7] ?? 0) << 8) | (bytes[at + 8] ?? 0);
      return width > 0 && height > 0 ? { width, height } : null;
    }
    at += 2 + length;
  }
  return null;
}
