import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MediaMessage } from '../ffmpeg-failure.js';
import { HLS_PLAYLIST_NAME, parseSegmentIndex } from '../hls-layout.js';
import { parseHlsPlaylist, type HlsSegment } from '../hls-playlist.js';
import { MediaError } from '../media-error.js';

/** How often the local playlist is read while ffmpeg runs (file-system events also trigger a read at once). */
export const SEGMENT_POLL_INTERVAL_MS = 150;

export interface SegmentWatcherOptions {
  /** The folder ffmpeg writes its segments and playlist into. */
  dir: string;
  /** Called with the segments ffmpeg newly listed, in order; `firstIndex` is the position of the first of them. */
  onListed(segments: readonly HlsSegment[], firstIndex: number): void;
  /** A scan failed (unreadable playlist, an unexpected segment name): the generation fails with it. */
  onError(error: unknown): void;
  /** Aborted once the generation has failed: no further scans. */
  signal: AbortSignal;
  /** Default {@link SEGMENT_POLL_INTERVAL_MS}. */
  pollMs?: number | undefined;
}

/** The watch-segments step while it runs. */
export interface SegmentWatcher {
  /** Every segment ffmpeg has listed so far, index = position. */
  readonly segments: readonly HlsSegment[];
  /** Stops the polling and the file-system events (a scan under way finishes). */
  stop(): void;
  /** After ffmpeg has exited: stops watching, waits for a scan under way, then reads the playlist a last time. */
  finish(): Promise<void>;
  /** Waits for a scan under way (on the way out after a failure). */
  settled(): Promise<void>;
}

/**
 * The watch-segments step: follows the playlist ffmpeg rewrites after every segment (by file-system events, and
 * by polling in case they are late or missing) and reports each newly listed segment once, in order. Every
 * segment ffmpeg lists is complete: segments and playlist are renamed into place. Scans run one at a time; a
 * request during a scan runs one more afterwards.
 *
 * @example
 * const watcher = watchSegments({ dir, signal, onListed: (added) => uploads.add(added), onError: fail });
 * await ffmpeg.result;
 * await watcher.finish();
 */
export function watchSegments(options: SegmentWatcherOptions): SegmentWatcher {
  const segments: HlsSegment[] = [];
  const playlistPath = join(options.dir, HLS_PLAYLIST_NAME);
  let scanning: Promise<void> | undefined;
  let rescan = false;

  const scan = async (): Promise<void> => {
    const text = await readPlaylist(playlistPath);
    if (text === undefined) return;
    const listed = newlyListed(text, segments);
    if (listed.length === 0) return;
    const firstIndex = segments.length;
    for (const segment of listed) {
      const index = segments.length;
      if (parseSegmentIndex(segment.uri) !== index) {
        throw new MediaError('ffmpeg_failed', MediaMessage.ConversionFailed, {
          permanent: false,
          cause: new Error(`unexpected segment "${segment.uri}" at position ${index}`),
        });
      }
      segments.push(segment);
    }
    options.onListed(listed, firstIndex);
  };

  const requestScan = (): void => {
    if (scanning) {
      rescan = true;
      return;
    }
    scanning = (async () => {
      do {
        rescan = false;
        await scan();
      } while (rescan && !options.signal.aborted);
    })()
      .catch((error: unknown) => options.onError(error))
      .finally(() => {
        scanning = undefined;
      });
  };

  const interval = setInterval(requestScan, options.pollMs ?? SEGMENT_POLL_INTERVAL_MS);
  let watcher: FSWatcher | undefined;
  try {
    // The playlist is renamed into place when complete; its temp file's events mean nothing yet.
    watcher = watch(options.dir, (_event, name) => {
      if (name === null || String(name) === HLS_PLAYLIST_NAME) requestScan();
    });
    watcher.on('error', () => undefined);
  } catch {
    // Polling alone is enough; events only make the reaction faster.
  }
  const stop = () => {
    clearInterval(interval);
    watcher?.close();
  };

  return {
    segments,
    stop,
    async finish() {
      stop();
      await scanning;
      await scan();
    },
    async settled() {
      await scanning;
    },
  };
}

async function readPlaylist(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * The segments `text` lists after the ones already taken. ffmpeg rewrites the whole playlist after every segment:
 * only what follows the last segment already taken is parsed, so an hour's scans cost what its lines do, not the
 * square of them.
 */
function newlyListed(text: string, taken: readonly HlsSegment[]): HlsSegment[] {
  const last = taken.at(-1);
  const marker = last === undefined ? '' : `\n${last.uri}\n`;
  const at = marker === '' ? -1 : text.lastIndexOf(marker);
  return at < 0
    ? parseHlsPlaylist(text).segments.slice(taken.length)
    : parseHlsPlaylist(text.slice(at + marker.length)).segments;
}
