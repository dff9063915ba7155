import { Hono } from 'hono';

import { authorizePlayback } from '../../videos/playback-access.js';
import type { PlaybackTokens } from '../../auth/playback-tokens.js';
import type { Db } from '../../db/create-database.js';
import { HlsStatus } from '../../db/schema.js';
import type { Storage } from '../../storage/storage.js';
import {
  createSignedPlaylists,
  folderOf,
  signSegments,
  type PlaylistForm,
} from '../../videos/signed-playlists.js';
import {
  PLAYBACK_TOKEN_PARAM,
  PLAYLIST_TYPE_PARAM,
  PlaybackRoute,
  playbackLinks,
  PlaylistType,
  playlistTypeOf,
  renditionHeightOf,
} from '../../videos/playback-urls.js';
import { listCaptions } from '../../captions/captions-repository.js';
import { subtitleMediaLines } from '../../captions/subtitle-playlist.js';
import { listReadyRenditions } from '../../tasks/video-tasks-repository.js';
import {
  buildMasterPlaylist,
  parseVariantAttributes,
  SUBTITLES_GROUP_ID,
} from '../../videos/master-playlist.js';
import { storageKeys } from '../../media/hls-layout.js';
import { DomainError, ErrorCode, NotFoundError } from '../../errors/domain-error.js';
import { describe } from '../openapi.js';
import type { ObjectUrls } from '../../videos/object-urls.js';

/**
 * `GET /api/videos/{id}/playlist.m3u8?token=…[&type=event]` — the `hls_url` players load. Checks the playback token
 * and the video's ownership on every request, then answers the playlist with every segment URI made absolute and
 * freshly presigned, so playback works from a private bucket in hls.js and in native HLS alike.
 *
 * - A plain URL (handed out with `ready`) answers the stored VOD playlist.
 * - An `type=event` URL (handed out with a playable `generating` answer) answers, while generating, the EVENT
 *   playlist of the segments stored so far (`EXT-X-START:TIME-OFFSET=0`, no `EXT-X-ENDLIST`); once the video is
 *   ready, the same playlist completed with `EXT-X-ENDLIST` and still typed EVENT (see docs/decisions/0006-play-while-generating.md).
 * - Anything else (failed, a generation restarting after an error, reset) is 409: ask `/stream` again.
 */
export function createPlaylistRoutes(deps: {
  db: Db;
  storage: Storage;
  playbackTokens: PlaybackTokens;
  /** The URLs handed out for segments, sprites and posters: one per object and signing window (decision 0016). */
  objectUrls: ObjectUrls;
}) {
  const app = new Hono();
  const presigned = deps.objectUrls;
  const playlists = createSignedPlaylists({ storage: deps.storage, objectUrls: presigned });

  const authorizedVideo = (id: string, token: string | undefined) => authorizePlayback(deps, id, token);

  const tokenParameter = {
    name: 'token',
    in: 'query' as const,
    required: true,
    description: 'Playback token from /stream',
  };

  app.get(
    PlaybackRoute.Poster,
    describe({
      summary: 'The poster_url: redirects to the presigned poster image',
      description:
        'Guarded by the playback token in the URL, like the playlist. A JPEG frame at 10 % of the video, at most 1280 wide.',
      tags: ['playback'],
      security: 'none',
      parameters: [tokenParameter],
      responses: { 302: { description: 'Location: a presigned URL of the JPEG', content: 'none' } },
      errors: [401, 403, 404],
    }),
    async (c) => {
      const video = await authorizedVideo(c.req.param('id'), c.req.query(PLAYBACK_TOKEN_PARAM));
      if (video.hls_status !== HlsStatus.Ready || !video.poster_key)
        throw new NotFoundError('The video has no poster.');
      const url = await presigned.get(video.poster_key);
      return c.body(null, 302, { Location: url, 'Cache-Control': 'private' });
    },
  );

  app.get(
    PlaybackRoute.Storyboard,
    describe({
      summary: 'The storyboard_url: seek-preview thumbnails as WebVTT',
      description:
        'Guarded by the playback token in the URL, like the playlist. Each cue is `<presigned sprite URL>#xywh=x,y,w,h`; ' +
        'the cues cover the whole video without gaps.',
      tags: ['playback'],
      security: 'none',
      parameters: [tokenParameter],
      responses: { 200: { description: 'A WebVTT file', content: 'vtt' } },
      errors: [401, 403, 404],
    }),
    async (c) => {
      const video = await authorizedVideo(c.req.param('id'), c.req.query(PLAYBACK_TOKEN_PARAM));
      if (video.hls_status !== HlsStatus.Ready || !video.storyboard_key) {
        throw new NotFoundError('The video has no storyboard.');
      }
      const text = await deps.storage.getObjectText(video.storyboard_key);
      // The sprite sits beside the VTT.
      const prefix = folderOf(video.storyboard_key);
      const body = await rewriteStoryboard(text, (name) => presigned.get(prefix + name));
      return c.body(body, 200, {
        'Content-Type': 'text/vtt; charset=utf-8',
        'Cache-Control': 'private, no-store',
      });
    },
  );

  app.get(
    PlaybackRoute.Master,
    describe({
      summary: 'The master playlist behind hls_url once there are lower renditions or captions',
      description:
        'Lists the source rendition and every finished lower rendition (BANDWIDTH, AVERAGE-BANDWIDTH, RESOLUTION, ' +
        'CODECS and FRAME-RATE as measured) plus a SUBTITLES group of the caption tracks. Every URI is relative and ' +
        'carries the same playback token; each variant playlist presigns its own segments.',
      tags: ['playback'],
      security: 'none',
      parameters: [tokenParameter],
      responses: { 200: { description: 'An HLS master playlist', content: 'text' } },
      errors: [401, 403, 404, 409],
    }),
    async (c) => {
      const token = c.req.query(PLAYBACK_TOKEN_PARAM);
      const video = await authorizedVideo(c.req.param('id'), token);
      const source = parseVariantAttributes(video.hls_variant);
      if (video.hls_status !== HlsStatus.Ready || !source) {
        throw new DomainError(ErrorCode.Conflict, 'The video has no master playlist; ask /stream again.');
      }
      const links = playbackLinks(token ?? '');
      const [renditions, captions] = await Promise.all([
        listReadyRenditions(deps.db, video),
        listCaptions(deps.db, video.id),
      ]);
      const body = buildMasterPlaylist({
        variants: [
          { ...source, uri: links.playlist() },
          ...renditions.map((r) => ({ ...r, uri: links.rendition(r.height) })),
        ],
        mediaLines: subtitleMediaLines(captions, (language) => links.caption(language), SUBTITLES_GROUP_ID),
        subtitlesGroupId: captions.length > 0 ? SUBTITLES_GROUP_ID : undefined,
      });
      return c.body(body, 200, PLAYLIST_HEADERS);
    },
  );

  app.get(
    PlaybackRoute.Rendition,
    describe({
      summary: 'A lower rendition listed in the master playlist, with every segment URL presigned',
      description: '`{height}p.m3u8`, guarded by the playback token like the other playlists.',
      tags: ['playback'],
      security: 'none',
      parameters: [tokenParameter],
      responses: { 200: { description: 'An HLS media playlist', content: 'text' } },
      errors: [401, 403, 404],
    }),
    async (c) => {
      const video = await authorizedVideo(c.req.param('id'), c.req.query(PLAYBACK_TOKEN_PARAM));
      const height = renditionHeightOf(c.req.param('file'));
      const rendition =
        video.hls_status === HlsStatus.Ready && height
          ? (await listReadyRenditions(deps.db, video)).find((r) => r.height === height)
          : undefined;
      if (!rendition) throw new NotFoundError('The video has no such rendition.');
      // A rendition's folder is its task's own and its run's: what is stored there never changes.
      const body = await playlists.get(rendition.playlistKey, video.hls_run_id ?? '');
      return c.body(body, 200, PLAYLIST_HEADERS);
    },
  );

  app.get(
    PlaybackRoute.Playlist,
    describe({
      summary: 'The playlist behind hls_url, with every segment URL presigned',
      description:
        'Guarded by the playback token in the URL (not a bearer token): players cannot add headers to every request.',
      tags: ['playback'],
      security: 'none',
      parameters: [
        { name: 'token', in: 'query', required: true, description: 'Playback token from /stream' },
        {
          name: 'type',
          in: 'query',
          description: '`event` for the growing playlist handed out while generating',
        },
      ],
      responses: { 200: { description: 'An HLS playlist', content: 'text' } },
      errors: [401, 403, 404, 409],
    }),
    async (c) => {
      const video = await authorizedVideo(c.req.param('id'), c.req.query(PLAYBACK_TOKEN_PARAM));
      const type = playlistTypeOf(c.req.query(PLAYLIST_TYPE_PARAM));

      let body: string;
      if (video.hls_status === HlsStatus.Ready && video.hls_playlist_key) {
        // Each generation run (a new run id) writes the playlist anew at the same key, then marks the video ready.
        const version = `${video.hls_run_id ?? ''} ${new Date(video.hls_generated_at ?? 0).getTime()}`;
        body = await playlists.get(
          video.hls_playlist_key,
          version,
          type === PlaylistType.Event ? EVENT_FORM : undefined,
        );
      } else if (
        type === PlaylistType.Event &&
        video.hls_status === HlsStatus.Generating &&
        video.hls_live_playlist
      ) {
        body = await signSegments(
          video.hls_live_playlist,
          storageKeys.hlsPrefix(video.owner_id, video.id),
          presigned,
        );
      } else {
        throw new DomainError(ErrorCode.Conflict, 'The video has no playable stream; ask /stream again.');
      }
      return c.body(body, 200, PLAYLIST_HEADERS);
    },
  );

  return app;
}

/** Signed URLs inside, and (while generating) a playlist that changes: never cache it anywhere. */
const PLAYLIST_HEADERS = {
  'Content-Type': 'application/vnd.apple.mpegurl',
  'Cache-Control': 'private, no-store',
} as const;

/** A ready video's playlist as the final state of the EVENT playlist a viewer followed while it was generating. */
const EVENT_FORM: PlaylistForm = { name: 'event', transform: (stored) => toEventPlaylist(stored) };

/** Tags that belong to a media segment (the first one ends the playlist's header). */
const SEGMENT_TAGS = [
  '#EXTINF:',
  '#EXT-X-BYTERANGE:',
  '#EXT-X-DISCONTINUITY',
  '#EXT-X-KEY:',
  '#EXT-X-MAP:',
  '#EXT-X-PROGRAM-DATE-TIME:',
  '#EXT-X-DATERANGE:',
  '#EXT-X-GAP',
  '#EXT-X-ENDLIST',
];

/**
 * Writes a complete VOD playlist as the final state of an EVENT playlist: `#EXT-X-PLAYLIST-TYPE:EVENT`,
 * `#EXT-X-START:TIME-OFFSET=0` at the end of the header, every segment line untouched, `#EXT-X-ENDLIST` kept.
 * For playlists written by `buildHlsPlaylist` the result is exactly the last EVENT playlist plus `#EXT-X-ENDLIST`,
 * which is the only change RFC 8216 (6.2.1) allows a server to make to a playlist a client is already following.
 *
 * @example
 * toEventPlaylist('#EXTM3U\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:6,\nsegment0.ts\n#EXT-X-ENDLIST\n');
 * // '#EXTM3U\n#EXT-X-PLAYLIST-TYPE:EVENT\n#EXT-X-START:TIME-OFFSET=0\n#EXTINF:6,\nsegment0.ts\n#EXT-X-ENDLIST\n'
 */
export function toEventPlaylist(vod: string): string {
  const lines = vod.split(/\r?\n/);
  const hasType = lines.some((line) => line.trim().startsWith('#EXT-X-PLAYLIST-TYPE:'));
  const hasStart = lines.some((line) => line.trim().startsWith('#EXT-X-START:'));
  let headerDone = false;
  let ended = false;
  const out: string[] = [];
  for (const line of lines) {
    const trimmed = line.trim();
    const isSegmentLine =
      (trimmed !== '' && !trimmed.startsWith('#')) || SEGMENT_TAGS.some((tag) => trimmed.startsWith(tag));
    if (isSegmentLine && !headerDone) {
      if (!hasType) out.push('#EXT-X-PLAYLIST-TYPE:EVENT');
      if (!hasStart) out.push('#EXT-X-START:TIME-OFFSET=0');
      headerDone = true;
    }
    if (trimmed.startsWith('#EXT-X-PLAYLIST-TYPE:')) {
      out.push('#EXT-X-PLAYLIST-TYPE:EVENT');
      continue;
    }
    if (trimmed === '#EXT-X-ENDLIST') ended = true;
    out.push(line);
  }
  if (!ended) {
    // A stored playlist is complete by definition; say so (after any trailing empty line).
    if (out.at(-1) === '') out.splice(out.length - 1, 0, '#EXT-X-ENDLIST');
    else out.push('#EXT-X-ENDLIST');
  }
  return out.join('\n');
}

/**
 * Makes every relative sprite reference of a storyboard WebVTT (`storyboard.jpg#xywh=…`) absolute with `sign`
 * (each distinct file signed once); absolute URLs and every other line stay as they are.
 *
 * @example
 * await rewriteStoryboard('WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nstoryboard.jpg#xywh=0,0,160,90\n', sign);
 * // '…\nhttps://bucket.example/videos/u/v_hls/storyboard.jpg?X-Amz-…#xywh=0,0,160,90\n'
 */
export async function rewriteStoryboard(
  vtt: string,
  sign: (fileName: string) => Promise<string>,
): Promise<string> {
  const signed = new Map<string, Promise<string>>();
  const lines = vtt.split('\n');
  const out: string[] = [];
  for (const line of lines) {
    const match = /^([A-Za-z0-9_-]+\.(?:jpg|jpeg|png|webp))(#xywh=\d+,\d+,\d+,\d+)\r?$/.exec(line);
    if (!match) {
      out.push(line);
      continue;
    }
    const name = match[1] as string;
    let url = signed.get(name);
    if (!url) signed.set(name, (url = sign(name)));
    out.push(`${await url}${match[2] as string}`);
  }
  return out.join('\n');
}
