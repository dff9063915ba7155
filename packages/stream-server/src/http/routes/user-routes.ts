import { Hono, type Context } from 'hono';

import type { UserTokenVerifier } from '../../auth/user-tokens.js';
import type { Db } from '../../db/create-database.js';
import type { StreamAnswer, StreamService } from '../../videos/stream-service.js';
import { isOwnerId, toVideoJson } from '../../videos/video-json.js';
import type { VideoRegistry } from '../../videos/video-registry.js';
import { listRequestOf, listVideoPage } from '../../videos/video-pages.js';
import {
  CompleteUploadBody,
  PartUrls,
  PartUrlsBody,
  Registered,
  StreamGenerating,
  StreamSettled,
  UploadState,
  UserUploadBody,
  Video,
  VideoList,
  VideoPatchBody,
} from '../api-schemas.js';
import { InvalidInputError, ForbiddenError } from '../../errors/domain-error.js';
import { describe, VIDEO_LIST_PARAMETERS } from '../openapi.js';
import { ownedVideo, requireUser, viewerOf, type UserEnv } from '../auth-middleware.js';
import { detailsOf, parseJsonBody } from '../request-helpers.js';

export interface UserRoutesDeps {
  db: Db;
  userTokens: UserTokenVerifier;
  streams: StreamService;
  /** Needed when `userUploads` is on: registering, completing and deleting go through the same registry. */
  registry?: VideoRegistry | undefined;
  /** Users may upload and delete their own videos (`USER_UPLOADS`); otherwise those routes answer 403. */
  userUploads?: boolean | undefined;
}

/**
 * The API a host app's users call with their own bearer token: their videos and the `/stream` contract, and —
 * when `USER_UPLOADS` is on — uploading and deleting their own videos.
 */
export function createUserRoutes(deps: UserRoutesDeps) {
  const app = new Hono<UserEnv>();

  app.use('*', requireUser(deps.userTokens));

  const answer = (c: Context<UserEnv>, body: StreamAnswer) => {
    if (body.status === 'generating') {
      c.header('Retry-After', String(body.retry_after));
      c.header('Cache-Control', 'no-store');
      return c.json(body, 202);
    }
    c.header('Cache-Control', 'no-store');
    return c.json(body, 200);
  };

  app.get(
    '/',
    describe({
      summary: 'List your videos, a page at a time',
      description:
        'Newest first, paged by keyset on (created_at, id): videos added while you page never shift or repeat a page. ' +
        '`external_id` finds the video you registered under your own id; `q` searches titles. Keep the same filters ' +
        'while following next_cursor.',
      tags: ['videos'],
      security: 'user',
      parameters: [...VIDEO_LIST_PARAMETERS],
      responses: { 200: { description: 'Newest first', schema: VideoList } },
      errors: [400, 401],
    }),
    async (c) => {
      const page = await listVideoPage(deps.db, {
        ownerId: c.get('userId'),
        ...listRequestOf((name) => c.req.query(name)),
      });
      return c.json({ videos: page.videos.map(toVideoJson), next_cursor: page.nextCursor });
    },
  );

  app.get(
    '/:id',
    describe({
      summary: 'Get one of your videos',
      tags: ['videos'],
      security: 'user',
      responses: { 200: { description: 'The video', schema: Video } },
      errors: [401, 404],
    }),
    async (c) => {
      return c.json(toVideoJson(await ownedVideo(c, deps.db)));
    },
  );

  /** The registry, when users may manage their own videos; a readable 403 otherwise. */
  const ownUploads = (): VideoRegistry => {
    if (!deps.userUploads || !deps.registry) {
      throw new ForbiddenError(
        'This server does not take uploads or deletes from users (USER_UPLOADS is off): the host app does that through the management API.',
      );
    }
    return deps.registry;
  };

  app.post(
    '/',
    describe({
      summary: 'Register an upload of your own (USER_UPLOADS)',
      tags: ['videos'],
      security: 'user',
      body: UserUploadBody,
      responses: { 201: { description: 'Registered; upload, then complete', schema: Registered } },
      errors: [400, 401, 403, 413],
    }),
    async (c) => {
      const registry = ownUploads();
      const ownerId = c.get('userId');
      if (!isOwnerId(ownerId)) {
        throw new InvalidInputError(
          "Your user id (the token's sub) cannot own videos here: it must be 1–128 letters, digits or . _ @ | : -",
        );
      }
      const body = await parseJsonBody(c, UserUploadBody);
      if (body.size_bytes === undefined) {
        throw new InvalidInputError('size_bytes is required: the upload URL takes exactly that many bytes.');
      }
      const { video, upload } = await registry.register({
        ownerId,
        title: body.title,
        contentType: body.content_type,
        sizeBytes: body.size_bytes,
        externalId: body.external_id,
        metadata: body.metadata,
      });
      return c.json({ video: toVideoJson(video), upload }, 201);
    },
  );

  app.post(
    '/:id/upload/parts',
    describe({
      summary: 'URLs for more parts of your multipart upload (USER_UPLOADS; at most 100 at a time)',
      tags: ['videos'],
      security: 'user',
      body: PartUrlsBody,
      responses: { 200: { description: 'Presigned part URLs', schema: PartUrls } },
      errors: [400, 401, 403, 404, 409],
    }),
    async (c) => {
      const registry = ownUploads();
      const video = await ownedVideo(c, deps.db);
      const body = await parseJsonBody(c, PartUrlsBody);
      return c.json(await registry.presignParts(video.id, body.part_numbers));
    },
  );

  app.get(
    '/:id/upload',
    describe({
      summary: 'Where your pending upload stands: stored parts and fresh URLs for the rest (USER_UPLOADS)',
      tags: ['videos'],
      security: 'user',
      responses: { 200: { description: 'The pending upload', schema: UploadState } },
      errors: [401, 403, 404, 409],
    }),
    async (c) => {
      const registry = ownUploads();
      const video = await ownedVideo(c, deps.db);
      c.header('Cache-Control', 'no-store');
      return c.json(await registry.uploadState(video.id));
    },
  );

  app.delete(
    '/:id/upload',
    describe({
      summary: 'Abort your pending upload: its parts are freed and the video is removed (USER_UPLOADS)',
      tags: ['videos'],
      security: 'user',
      responses: { 204: { description: 'Aborted' } },
      errors: [401, 403, 404, 409],
    }),
    async (c) => {
      const registry = ownUploads();
      const video = await ownedVideo(c, deps.db);
      await registry.abortUpload(video.id);
      return c.body(null, 204);
    },
  );

  app.post(
    '/:id/upload/complete',
    describe({
      summary: 'Mark your upload complete (USER_UPLOADS)',
      tags: ['videos'],
      security: 'user',
      body: CompleteUploadBody,
      responses: { 200: { description: 'The video', schema: Video } },
      errors: [400, 401, 403, 404, 409, 422],
    }),
    async (c) => {
      const registry = ownUploads();
      const video = await ownedVideo(c, deps.db);
      const body = await parseJsonBody(c, CompleteUploadBody);
      const completed = await registry.completeUpload(
        video.id,
        body.parts?.map((p) => ({ partNumber: p.part_number, etag: p.etag })),
      );
      return c.json(toVideoJson(completed));
    },
  );

  app.patch(
    '/:id',
    describe({
      summary: "Change your video's title, external_id or metadata (USER_UPLOADS)",
      description:
        'Sets the fields the body names and leaves the others; `null` removes a title or external_id and empties ' +
        'metadata. `metadata` replaces the whole object.',
      tags: ['videos'],
      security: 'user',
      body: VideoPatchBody,
      responses: { 200: { description: 'The video', schema: Video } },
      errors: [400, 401, 403, 404, 409],
    }),
    async (c) => {
      const registry = ownUploads();
      const video = await ownedVideo(c, deps.db);
      const body = await parseJsonBody(c, VideoPatchBody);
      return c.json(toVideoJson(await registry.update(video.id, detailsOf(body))));
    },
  );

  app.delete(
    '/:id',
    describe({
      summary: 'Delete one of your videos (USER_UPLOADS)',
      tags: ['videos'],
      security: 'user',
      responses: { 204: { description: 'Deleted' } },
      errors: [401, 403, 404],
    }),
    async (c) => {
      const registry = ownUploads();
      const video = await ownedVideo(c, deps.db);
      await registry.remove(video.id);
      return c.body(null, 204);
    },
  );

  /** Both /stream and its retry answer with the contract's bodies. */
  const describeStream = (summary: string) =>
    describe({
      summary,
      tags: ['videos'],
      security: 'user',
      responses: {
        200: { description: 'Ready or failed', schema: StreamSettled },
        202: {
          description: 'Generating (the first view starts it); poll after retry_after',
          schema: StreamGenerating,
        },
      },
      errors: [401, 404, 409],
    });

  app.get('/:id/stream', describeStream('The /stream contract: where to play a video'), async (c) =>
    answer(c, await deps.streams.getStream(viewerOf(c), c.req.param('id'))),
  );

  app.post('/:id/stream/retry', describeStream('Retry a failed generation'), async (c) =>
    answer(c, await deps.streams.retry(viewerOf(c), c.req.param('id'))),
  );

  return app;
}
