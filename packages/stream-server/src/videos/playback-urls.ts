import { HLS_PLAYLIST_NAME, MASTER_PLAYLIST_NAME } from '../media/hls-layout.js';

// The one home of the playback URL scheme: what `/stream` hands out (absolute URLs), what the master playlist
// lists (the same URLs relative to it), the routes that answer them, and how their names and queries are read.
// Every playback URL hangs from `/api/videos/{id}/` and carries the playback token from `/stream` in `?token=`.

/** The query parameter that carries the playback token (players cannot add headers to every request). */
export const PLAYBACK_TOKEN_PARAM = 'token';

/**
 * How the playlist behind an `hls_url` is written. A URL handed out while generating is an `event` URL and stays
 * one for its whole life: it answers `#EXT-X-PLAYLIST-TYPE:EVENT` while segments land and, once the video is ready,
 * the same EVENT playlist with `#EXT-X-ENDLIST` (HLS forbids changing a playlist's type within a session).
 */
export const PlaylistType = { Vod: 'vod', Event: 'event' } as const;
export type PlaylistType = (typeof PlaylistType)[keyof typeof PlaylistType];

/** The query parameter of `hls_url` that carries {@link PlaylistType} (absent means `vod`). */
export const PLAYLIST_TYPE_PARAM = 'type';

/** The playback routes, as Hono patterns under `/api/videos`. */
export const PlaybackRoute = {
  Playlist: `/:id/${HLS_PLAYLIST_NAME}`,
  Master: `/:id/${MASTER_PLAYLIST_NAME}`,
  Rendition: '/:id/renditions/:file',
  Poster: '/:id/poster.jpg',
  Storyboard: '/:id/storyboard.vtt',
  /** `{language}.m3u8` (a subtitle playlist) or `{language}.vtt`; shares its pattern with the captions writes. */
  Caption: '/:id/captions/:language',
  /** The video's chapters as a WebVTT `kind=chapters` track. */
  Chapters: '/:id/chapters.vtt',
} as const;

/** One video's playback links, each carrying the same playback token. */
export interface PlaybackLinks {
  playlist(type?: PlaylistType): string;
  master(): string;
  rendition(height: number): string;
  caption(language: string): string;
  poster(): string;
  storyboard(): string;
  chapters(): string;
}

/**
 * The links relative to the video's playback folder (`/api/videos/{id}/`), as the master playlist lists them;
 * with `base`, absolute, as `/stream` answers them.
 *
 * @example
 * playbackLinks(token).rendition(360);                          // 'renditions/360p.m3u8?token=…'
 * playbackLinks(token, videoPlaybackBase(url, id)).master();    // 'https://…/api/videos/{id}/master.m3u8?token=…'
 */
export function playbackLinks(token: string, base = ''): PlaybackLinks {
  const query = `${PLAYBACK_TOKEN_PARAM}=${encodeURIComponent(token)}`;
  const link = (path: string) => `${base}${path}?${query}`;
  return {
    playlist: (type = PlaylistType.Vod) =>
      type === PlaylistType.Event
        ? `${link(HLS_PLAYLIST_NAME)}&${PLAYLIST_TYPE_PARAM}=${type}`
        : link(HLS_PLAYLIST_NAME),
    master: () => link(MASTER_PLAYLIST_NAME),
    rendition: (height) => link(`renditions/${height}p.m3u8`),
    caption: (language) => link(`captions/${encodeURIComponent(language)}.m3u8`),
    poster: () => link('poster.jpg'),
    storyboard: () => link('storyboard.vtt'),
    chapters: () => link('chapters.vtt'),
  };
}

/** The folder every playback URL of a video hangs from, ending in `/`. */
export function videoPlaybackBase(publicUrl: string, videoId: string): string {
  return `${publicUrl}/api/videos/${videoId}/`;
}

/** The {@link PlaylistType} a playlist URL's query asks for. */
export function playlistTypeOf(value: string | undefined): PlaylistType {
  return value === PlaylistType.Event ? PlaylistType.Event : PlaylistType.Vod;
}

/** `360p.m3u8` → 360; anything else → `undefined`. */
export function renditionHeightOf(file: string): number | undefined {
  const height = /^(\d{2,4})p\.m3u8$/.exec(file)?.[1];
  return height === undefined ? undefined : Number(height);
}

/** `en.m3u8` → `{ language: 'en', kind: 'm3u8' }`; anything else → `undefined`. */
export function captionFileOf(name: string): { language: string; kind: 'm3u8' | 'vtt' } | undefined {
  const match = /^(.+)\.(m3u8|vtt)$/.exec(name);
  return match ? { language: match[1] as string, kind: match[2] as 'm3u8' | 'vtt' } : undefined;
}
