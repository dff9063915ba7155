import { Hono, type Context } from 'hono';

import type { UserTokenVerifier } from '../../auth/user-tokens.js';
import type { Db } from '../../db/create-database.js';
import type { StreamAnswer, StreamService } from '../../videos/stream-service.js';
import { isVideoId, toVideoJson } from '../../videos/video-json.js';
import { findOwnedVideo, listVideosByOwner } from '../../videos/videos-repository.js';
import { NotFoundError, UnauthorizedError } from '../errors.js';
import { bearerToken } from '../request-helpers.js';

type Env = { Variables: { userId: string } };

/** The API a host app's users call with their own bearer token: their videos and the `/stream` contract. */
export function createUserRoutes(deps: { db: Db; userTokens: UserTokenVerifier; streams: StreamService }) {
  const app = new Hono<Env>();

  app.use('*', async (c, next) => {
    const token = bearerToken(c);
    if (!token) throw new UnauthorizedError();
    c.set('userId', await deps.userTokens.verify(token));
    await next();
  });

  const answer = (c: Context<Env>, body: StreamAnswer) => {
    if (body.status === 'generating') {
      c.header('Retry-After', String(body.retry_after));
      c.header('Cache-Control', 'no-store');
      return c.json(body, 202);
    }
    c.header('Cache-Control', 'no-store');
    return c.json(body, 200);
  };

  app.get('/', async (c) => {
    const videos = await listVideosByOwner(deps.db, c.get('userId'));
    return c.json({ videos: videos.map(toVideoJson) });
  });

  app.get('/:id', async (c) => {
    const id = c.req.param('id');
    const video = isVideoId(id) ? await findOwnedVideo(deps.db, id, c.get('userId')) : undefined;
    if (!video) throw new NotFoundError();
    return c.json(toVideoJson(video));
  });

  app.get('/:id/stream', async (c) => answer(c, await deps.streams.getStream(c.get('userId'), c.req.param('id'))));

  app.post('/:id/stream/retry', async (c) =>
    answer(c, await deps.streams.retry(c.get('userId'), c.req.param('id'))),
  );

  return app;
}
