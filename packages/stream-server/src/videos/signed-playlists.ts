import { promisify } from 'node:util';
import { gzip } from 'node:zlib';

import type { Storage } from '../storage/storage.js';
import type { ObjectUrls } from './object-urls.js';
import { isPlainSegmentName, rewritePlaylist } from './rewrite-playlist.js';

// The media playlists handed out to viewers: the stored playlist with every segment name turned into the object's
// URL of the current signing window. Those URLs are the same for every viewer of a window (decision 0016), so the
// whole signed playlist is too: it is made once per playlist and window and kept, instead of reading the stored
// playlist from the bucket and rewriting its hundreds of lines on every request, and so is its gzip form. See
// docs/decisions/0032-signed-playlists-kept-per-window.md.

const gzipAsync = promisify(gzip);

/** A signed playlist: its text, and its gzip form (made on first use, once). */
export interface SignedPlaylist {
  text: string;
  gzip(): Promise<Uint8Array>;
}

/** Another form of a stored playlist, made from its text before signing (e.g. the EVENT form of a VOD playlist). */
export interface PlaylistForm {
  /** Names the form in the cache: one name, one transform. */
  name: string;
  transform: (stored: string) => string;
}

export interface SignedPlaylists {
  /**
   * The playlist stored at `key`, in `form` when given, with each segment named relative to its folder replaced by
   * its URL. `version` must change whenever the object at `key` may have been rewritten (a new generation run).
   */
  get(key: string, version: string, form?: PlaylistForm): Promise<SignedPlaylist>;
}

/** Default bound of the kept playlists (text and gzip form): about a hundred hour-long playlists of 600 segments. */
export const SIGNED_PLAYLISTS_MAX_BYTES = 32 * 1024 * 1024;

/**
 * Signed playlists, kept while their signing window lasts (`objectUrls.currentWindow()`); when URLs are signed per
 * request (no window) every call reads and signs afresh. Requests for the same playlist share one read. Bounded by
 * `maxBytes` (text and gzip forms), least recently used dropped first; a new window drops the previous one's.
 *
 * @example
 * const playlists = createSignedPlaylists({ storage, objectUrls });
 * (await playlists.get('videos/u/v_hls/playlist.m3u8', `${video.hls_run_id}`)).text; // '#EXTM3U\n…\nhttps://…segment00000.ts?…'
 */
export function createSignedPlaylists(deps: {
  storage: Pick<Storage, 'getObjectText'>;
  objectUrls: ObjectUrls;
  maxBytes?: number;
}): SignedPlaylists {
  const maxBytes = deps.maxBytes ?? SIGNED_PLAYLISTS_MAX_BYTES;
  const kept = new Map<string, { playlist: Promise<SignedPlaylist>; bytes: number }>();
  let keptBytes = 0;
  let keptWindow: number | undefined;

  const make = async (key: string, form: PlaylistForm | undefined) => {
    const stored = await deps.storage.getObjectText(key);
    return signSegments(form ? form.transform(stored) : stored, folderOf(key), deps.objectUrls);
  };

  const drop = (cacheKey: string) => {
    const entry = kept.get(cacheKey);
    if (!entry) return;
    kept.delete(cacheKey);
    keptBytes -= entry.bytes;
  };

  /** Counts `bytes` more for the entry (if still kept), then drops the least recently used beyond the bound. */
  const grow = (cacheKey: string, entry: { bytes: number }, bytes: number) => {
    if (kept.get(cacheKey) !== entry) return;
    entry.bytes += bytes;
    keptBytes += bytes;
    for (const [oldest] of kept) {
      if (keptBytes <= maxBytes) break;
      drop(oldest);
    }
  };

  return {
    async get(key, version, form) {
      const window = deps.objectUrls.currentWindow();
      if (window === undefined) return signedPlaylist(await make(key, form));
      if (window !== keptWindow) {
        kept.clear();
        keptBytes = 0;
        keptWindow = window;
      }
      const cacheKey = `${key}\n${version}\n${form?.name ?? ''}`;
      const hit = kept.get(cacheKey);
      if (hit) {
        // Most recently used last.
        kept.delete(cacheKey);
        kept.set(cacheKey, hit);
        return hit.playlist;
      }
      const entry = {
        playlist: make(key, form).then((text) =>
          signedPlaylist(text, (gzipped) => grow(cacheKey, entry, gzipped.byteLength)),
        ),
        bytes: 0,
      };
      kept.set(cacheKey, entry);
      entry.playlist.then(
        (playlist) => grow(cacheKey, entry, Buffer.byteLength(playlist.text)),
        () => {
          if (kept.get(cacheKey) === entry) drop(cacheKey);
        },
      );
      return entry.playlist;
    },
  };
}

/** A signed playlist of `text` whose gzip form is made once, on first use (`onGzip` learns its size). */
export function signedPlaylist(text: string, onGzip?: (gzipped: Uint8Array) => void): SignedPlaylist {
  let gzipped: Promise<Uint8Array> | undefined;
  return {
    text,
    gzip() {
      if (!gzipped) {
        gzipped = gzipAsync(text);
        gzipped.then(onGzip, () => (gzipped = undefined));
      }
      return gzipped;
    },
  };
}

/** Makes every segment of a media playlist stored in `folder` an absolute URL of the object beside it. */
export function signSegments(text: string, folder: string, objectUrls: ObjectUrls): Promise<string> {
  return rewritePlaylist(text, async (uri) => (isPlainSegmentName(uri) ? objectUrls.get(folder + uri) : uri));
}

/** The storage folder an object is in, ending in `/` (`videos/u/v_hls/360p-1a2b/playlist.m3u8` → `…/360p-1a2b/`). */
export function folderOf(key: string): string {
  return key.slice(0, key.lastIndexOf('/') + 1);
}
