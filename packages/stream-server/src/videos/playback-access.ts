import type { PlaybackTokens } from '../auth/playback-tokens.js';
import type { Db } from '../db/create-database.js';
import type { VideoRow } from '../db/schema.js';
import { ForbiddenError, NotFoundError, UnauthenticatedError } from '../errors/domain-error.js';
import { isVideoId } from './video-json.js';
import { findVideo } from './videos-repository.js';

/**
 * The check every playback URL makes (`?token=` from `/stream`: playlists, poster, storyboard, captions): a token is present
 * (401), valid and unexpired (401), names this video (403), and the video still exists (404) and its user still owns
 * it — or the token was minted for a viewer that `/stream` let in through a `watch` grant (404 otherwise).
 * Returns the video.
 *
 * @example
 * const video = await authorizePlayback(deps, c.req.param('id'), c.req.query('token'));
 */
export async function authorizePlayback(
  deps: { db: Db; playbackTokens: PlaybackTokens },
  videoId: string,
  token: string | undefined,
): Promise<VideoRow> {
  if (!token) throw new UnauthenticatedError('The URL has no playback token.');
  const grant = await deps.playbackTokens.verify(token);
  if (!isVideoId(videoId) || grant.videoId !== videoId) {
    throw new ForbiddenError('The playback token is for another video.');
  }
  const video = await findVideo(deps.db, videoId);
  if (!video || (video.owner_id !== grant.userId && !grant.shared)) throw new NotFoundError();
  return video;
}
