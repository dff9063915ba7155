import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';

import { serviceKeyMatches } from '../auth/service-key.js';
import type { UserTokenVerifier } from '../auth/user-tokens.js';
import type { Db } from '../db/create-database.js';
import type { VideoRow } from '../db/schema.js';
import { isVideoId } from '../videos/video-json.js';
import { findOwnedVideo, findVideo } from '../videos/videos-repository.js';
import { findWatchableVideo, type Viewer } from '../videos/viewer.js';
import { NotFoundError, UnauthenticatedError } from '../errors/domain-error.js';
import { bearerToken } from './request-helpers.js';

/**
 * Routes behind {@link requireUser} know the caller's user id and the videos their token's `watch` claim grants
 * (playback only: see {@link watchableVideo}).
 */
export type UserEnv = { Variables: { userId: string; watch: readonly string[] } };

/**
 * A user's bearer token (their `sub` becomes `userId`, their `watch` claim `watch`); 401 without a valid one, or
 * with a `watch` claim that is not an array of at most 100 ids.
 */
export function requireUser(userTokens: UserTokenVerifier) {
  return createMiddleware<UserEnv>(async (c, next) => {
    const token = bearerToken(c);
    if (!token) throw new UnauthenticatedError();
    const identity = await userTokens.identify(token);
    c.set('userId', identity.userId);
    c.set('watch', identity.watch);
    await next();
  });
}

/** The caller of a route behind {@link requireUser}, as a viewer. */
export function viewerOf(c: Context<UserEnv>): Viewer {
  return { userId: c.get('userId'), watch: c.get('watch') ?? [] };
}

/** The service API key as the bearer token (the management API); 401 otherwise. */
export function requireServiceKey(serviceApiKey: string) {
  return createMiddleware(async (c, next) => {
    const token = bearerToken(c);
    if (!token || !serviceKeyMatches(token, serviceApiKey)) {
      throw new UnauthenticatedError('The management API needs the service API key as a bearer token.');
    }
    await next();
  });
}

/**
 * The `:id` video when the caller may play it: they own it or their token's `watch` claim names it; 404 otherwise.
 * For playback reads only — every write, and the lists, stay with {@link ownedVideo}.
 */
export async function watchableVideo(c: Context<UserEnv>, db: Db): Promise<VideoRow> {
  const video = await findWatchableVideo(db, c.req.param('id') ?? '', viewerOf(c));
  if (!video) throw new NotFoundError();
  return video;
}

/** The `:id` video when the calling user owns it; 404 otherwise (unknown and not-yours look the same). */
/** The video named by the path's `:id`, whoever owns it (for management routes); 404 when there is none. */
export async function videoOfPath(c: Context, db: Db): Promise<VideoRow> {
  const id = c.req.param('id') ?? '';
  const video = isVideoId(id) ? await findVideo(db, id) : undefined;
  if (!video) throw new NotFoundError();
  return video;
}

export async function ownedVideo(c: Context<UserEnv>, db: Db): Promise<VideoRow> {
  const id = c.req.param('id') ?? '';
  const video = isVideoId(id) ? await findOwnedVideo(db, id, c.get('userId')) : undefined;
  if (!video) throw new NotFoundError();
  return video;
}
