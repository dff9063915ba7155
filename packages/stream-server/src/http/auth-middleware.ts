import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';

import { serviceKeyMatches } from '../auth/service-key.js';
import type { UserTokenVerifier } from '../auth/user-tokens.js';
import type { Db } from '../db/create-database.js';
import type { VideoRow } from '../db/schema.js';
import { isVideoId } from '../videos/video-json.js';
import { findOwnedVideo } from '../videos/videos-repository.js';
import { NotFoundError, UnauthenticatedError } from '../errors/domain-error.js';
import { bearerToken } from './request-helpers.js';

/** Routes behind {@link requireUser} know the caller's user id. */
export type UserEnv = { Variables: { userId: string } };

/** A user's bearer token (their `sub` becomes `userId`); 401 without a valid one. */
export function requireUser(userTokens: UserTokenVerifier) {
  return createMiddleware<UserEnv>(async (c, next) => {
    const token = bearerToken(c);
    if (!token) throw new UnauthenticatedError();
    c.set('userId', await userTokens.verify(token));
    await next();
  });
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

/** The `:id` video when the calling user owns it; 404 otherwise (unknown and not-yours look the same). */
export async function ownedVideo(c: Context<UserEnv>, db: Db): Promise<VideoRow> {
  const id = c.req.param('id') ?? '';
  const video = isVideoId(id) ? await findOwnedVideo(db, id, c.get('userId')) : undefined;
  if (!video) throw new NotFoundError();
  return video;
}
