import { Hono } from 'hono';

import type { PlaybackTokens } from '../../auth/playback-tokens.js';
import type { Db } from '../../db/create-database.js';
import { HlsStatus } from '../../db/schema.js';
import type { Storage } from '../../storage/storage.js';
import { isPlainSegmentName, rewritePlaylist } from '../../videos/rewrite-playlist.js';
import { isVideoId, storageKeys } from '../../videos/video-json.js';
import { findOwnedVideo } from '../../videos/videos-repository.js';
import { ApiError, ApiErrorCode, ForbiddenError, NotFoundError, UnauthorizedError } from '../errors.js';

/**
 * `GET /api/videos/{id}/playlist.m3u8?token=…` — the `hls_url` players load. Checks the playback token and the
 * video's ownership on every request, then answers the stored playlist with every segment URI made absolute and
 * freshly presigned, so playback works from a private bucket in hls.js and in native HLS alike.
 */
export function createPlaylistRoutes(deps: {
  db: Db;
  storage: Storage;
  playbackTokens: PlaybackTokens;
  presignTtlSeconds: number;
}) {
  const app = new Hono();

  app.get('/:id/playlist.m3u8', async (c) => {
    const id = c.req.param('id');
    const token = c.req.query('token');
    if (!token) throw new UnauthorizedError('The playlist URL has no playback token.');
    const grant = await deps.playbackTokens.verify(token);
    if (!isVideoId(id) || grant.videoId !== id) throw new ForbiddenError('The playback token is for another video.');
    const video = await findOwnedVideo(deps.db, id, grant.userId);
    if (!video) throw new NotFoundError();
    if (video.hls_status !== HlsStatus.Ready || !video.hls_playlist_key) {
      throw new ApiError(409, ApiErrorCode.Conflict, 'The video has no playable stream; ask /stream again.');
    }
    const prefix = storageKeys.hlsPrefix(video.owner_id, video.id);
    const text = await deps.storage.getObjectText(video.hls_playlist_key);
    const body = await rewritePlaylist(text, async (uri) => {
      if (!isPlainSegmentName(uri)) return uri;
      return deps.storage.presignGet(prefix + uri, { expiresInSeconds: deps.presignTtlSeconds });
    });
    return c.body(body, 200, {
      'Content-Type': 'application/vnd.apple.mpegurl',
      // The body carries signed URLs: never cache it in a shared cache.
      'Cache-Control': 'private, no-store',
    });
  });

  return app;
}
