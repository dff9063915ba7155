import type { Storage } from '../storage/storage.js';
import type { ObjectUrls } from './object-urls.js';
import { isPlainSegmentName, rewritePlaylist } from './rewrite-playlist.js';

// The media playlists handed out to viewers: the stored playlist with every segment name turned into the object's
// URL of the current signing window. Those URLs are the same for every viewer of a window (decision 0016), so the
// whole signed playlist is too: it is made once per playlist and window and kept, instead of reading the stored
// playlist from the bucket and rewriting its hundreds of lines on every request. See
// docs/decisions/0032-signed-playlists-kept-per-window.md.

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
  get(key: string, version: string, form?: PlaylistForm): Promise<string>;
}

/** Default bound of the kept playlists: about a hundred hour-long playlists of 600 segments. */
export const SIGNED_PLAYLISTS_MAX_CHARS = 32 * 1024 * 1024;

/**
 * Signed playlists, kept while their signing window lasts (`objectUrls.currentWindow()`); when URLs are signed per
 * request (no window) every call reads and signs afresh. Requests for the same playlist share one read. Bounded by
 * `maxChars` of playlist text, least recently used dropped first; a new window drops the previous one's.
 *
 * @example
 * const playlists = createSignedPlaylists({ storage, objectUrls });
 * await playlists.get('videos/u/v_hls/playlist.m3u8', `${video.hls_run_id}`); // '#EXTM3U\n…\nhttps://…segment00000.ts?…'
 */
export function createSignedPlaylists(deps: {
  storage: Pick<Storage, 'getObjectText'>;
  objectUrls: ObjectUrls;
  maxChars?: number;
}): SignedPlaylists {
  const maxChars = deps.maxChars ?? SIGNED_PLAYLISTS_MAX_CHARS;
  const kept = new Map<string, { body: Promise<string>; chars: number }>();
  let keptChars = 0;
  let keptWindow: number | undefined;

  const make = async (key: string, form: PlaylistForm | undefined) => {
    const stored = await deps.storage.getObjectText(key);
    return signSegments(form ? form.transform(stored) : stored, folderOf(key), deps.objectUrls);
  };

  const drop = (cacheKey: string) => {
    const entry = kept.get(cacheKey);
    if (!entry) return;
    kept.delete(cacheKey);
    keptChars -= entry.chars;
  };

  return {
    get(key, version, form) {
      const window = deps.objectUrls.currentWindow();
      if (window === undefined) return make(key, form);
      if (window !== keptWindow) {
        kept.clear();
        keptChars = 0;
        keptWindow = window;
      }
      const cacheKey = `${key}\n${version}\n${form?.name ?? ''}`;
      const hit = kept.get(cacheKey);
      if (hit) {
        // Most recently used last.
        kept.delete(cacheKey);
        kept.set(cacheKey, hit);
        return hit.body;
      }
      const entry = { body: make(key, form), chars: 0 };
      kept.set(cacheKey, entry);
      entry.body.then(
        (body) => {
          if (kept.get(cacheKey) !== entry) return;
          entry.chars = body.length;
          keptChars += body.length;
          for (const [oldest] of kept) {
            if (keptChars <= maxChars) break;
            drop(oldest);
          }
        },
        () => {
          if (kept.get(cacheKey) === entry) drop(cacheKey);
        },
      );
      return entry.body;
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
