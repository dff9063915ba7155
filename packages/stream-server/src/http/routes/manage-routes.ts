import { Hono } from 'hono';

import type { Db } from '../../db/create-database.js';
import type { StreamService } from '../../videos/stream-service.js';
import { toVideoJson } from '../../videos/video-json.js';
import type { VideoRegistry } from '../../videos/video-registry.js';
import { listRequestOf, listVideoPage } from '../../videos/video-pages.js';
import {
  CompleteUploadBody,
  ImportBody,
  PartUrls,
  PartUrlsBody,
  Registered,
  RegisterBody,
  StreamGenerating,
  StreamSettled,
  UploadState,
  UserTokenAnswer,
  UserTokenBody,
  Video,
  VideoList,
  VideoPatchBody,
} from '../api-schemas.js';
import { ConflictError, ErrorCode, InvalidInputError } from '../../errors/domain-error.js';
import { describe, VIDEO_LIST_PARAMETERS } from '../openapi.js';
import { requireServiceKey } from '../auth-middleware.js';
import { detailsOf, parseJsonBody } from '../request-helpers.js';

/** Lifetime of a token from `POST /api/manage/tokens` without `ttl_seconds`. */
export const DEFAULT_USER_TOKEN_TTL_SECONDS = 3600;

/** Mints a user token for `sub` with an optional `watch` grant, and says when it expires. */
export type UserTokenMinter = (request: {
  sub: string;
  watch: readonly string[];
  ttlSeconds: number;
}) => Promise<{ token: string; expiresAt: Date }>;

/**
 * The management API a trusted backend calls with the service API key (never a user token): register and upload,
 * import existing objects, change a video's title, external id and metadata, delete, pre-generate and delete HLS, list
 * and search videos.
 */
export function createManageRoutes(deps: {
  db: Db;
  serviceApiKey: string;
  registry: VideoRegistry;
  streams: StreamService;
  /** Mints user tokens the service accepts; absent when tokens come from the host's identity provider (JWKS). */
  userTokenMinter?: UserTokenMinter | undefined;
}) {
  const app = new Hono();

  app.use('*', requireServiceKey(deps.serviceApiKey));

  app.post(
    '/tokens',
    describe({
      summary: "Mint a user token, optionally granting other users' videos to watch",
      description:
        'For host apps that let this service sign their user tokens (HS256). `watch` lists video ids of other owners ' +
        'the user may play (the `/stream` contract and every playback URL), nothing else: lists, uploads, deletes and ' +
        'caption writes stay with the owner. A server that verifies tokens from AUTH_JWKS_URL answers 409: mint them ' +
        'with your identity provider, adding the same `watch` claim.',
      tags: ['management'],
      security: 'service',
      body: UserTokenBody,
      responses: { 201: { description: 'The token and when it expires', schema: UserTokenAnswer } },
      errors: [400, 401, 409],
    }),
    async (c) => {
      const body = await parseJsonBody(c, UserTokenBody);
      if (!deps.userTokenMinter) {
        throw new ConflictError(
          ErrorCode.Conflict,
          'This server verifies RS256 tokens from AUTH_JWKS_URL: mint user tokens (with a watch claim) with your identity provider.',
        );
      }
      const minted = await deps.userTokenMinter({
        sub: body.sub,
        watch: body.watch ?? [],
        ttlSeconds: body.ttl_seconds ?? DEFAULT_USER_TOKEN_TTL_SECONDS,
      });
      c.header('Cache-Control', 'no-store');
      return c.json({ token: minted.token, expires_at: minted.expiresAt.toISOString() }, 201);
    },
  );

  app.get(
    '/videos',
    describe({
      summary: "List videos, a page at a time: one user's, or every owner's",
      description:
        'Newest first, paged by keyset on (created_at, id): videos added while you page never shift or repeat a page. ' +
        '`owner_id` with `external_id` finds the one video a user has under your id; `q` searches titles. Keep the ' +
        'same filters while following next_cursor.',
      tags: ['management'],
      security: 'service',
      parameters: [
        { name: 'owner_id', in: 'query', description: "Only this user's videos (omitted: every owner)" },
        ...VIDEO_LIST_PARAMETERS,
      ],
      responses: { 200: { description: 'Newest first', schema: VideoList } },
      errors: [400, 401],
    }),
    async (c) => {
      const ownerId = c.req.query('owner_id');
      if (ownerId === '')
        throw new InvalidInputError('owner_id must not be empty (omit it to list every owner).');
      const page = await listVideoPage(deps.db, { ownerId, ...listRequestOf((name) => c.req.query(name)) });
      return c.json({ videos: page.videos.map(toVideoJson), next_cursor: page.nextCursor });
    },
  );

  app.post(
    '/videos',
    describe({
      summary: 'Register a video and get a direct-upload URL',
      tags: ['management'],
      security: 'service',
      body: RegisterBody,
      responses: {
        201: { description: 'Registered; upload to the instructions, then complete', schema: Registered },
      },
      errors: [400, 401, 413],
    }),
    async (c) => {
      const body = await parseJsonBody(c, RegisterBody);
      const { video, upload } = await deps.registry.register({
        ownerId: body.owner_id,
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
    '/videos/import',
    describe({
      summary: 'Register an object already in the bucket',
      tags: ['management'],
      security: 'service',
      body: ImportBody,
      responses: { 201: { description: 'Registered', schema: Video } },
      errors: [400, 401, 409, 413],
    }),
    async (c) => {
      const body = await parseJsonBody(c, ImportBody);
      const video = await deps.registry.importExisting({
        ownerId: body.owner_id,
        sourceKey: body.source_key,
        title: body.title,
        externalId: body.external_id,
        metadata: body.metadata,
      });
      return c.json(toVideoJson(video), 201);
    },
  );

  app.post(
    '/videos/:id/upload/parts',
    describe({
      summary: 'URLs for more parts of a multipart upload (at most 100 at a time)',
      tags: ['management'],
      security: 'service',
      body: PartUrlsBody,
      responses: { 200: { description: 'Presigned part URLs', schema: PartUrls } },
      errors: [400, 401, 404, 409],
    }),
    async (c) => {
      const body = await parseJsonBody(c, PartUrlsBody);
      return c.json(await deps.registry.presignParts(c.req.param('id'), body.part_numbers));
    },
  );

  app.get(
    '/videos/:id/upload',
    describe({
      summary: 'Where a pending upload stands: stored parts and fresh URLs for the rest (resume)',
      tags: ['management'],
      security: 'service',
      responses: { 200: { description: 'The pending upload', schema: UploadState } },
      errors: [401, 404, 409],
    }),
    async (c) => {
      c.header('Cache-Control', 'no-store');
      return c.json(await deps.registry.uploadState(c.req.param('id')));
    },
  );

  app.delete(
    '/videos/:id/upload',
    describe({
      summary: 'Abort a pending upload: its parts are freed and the video is removed',
      tags: ['management'],
      security: 'service',
      responses: { 204: { description: 'Aborted' } },
      errors: [401, 404, 409],
    }),
    async (c) => {
      await deps.registry.abortUpload(c.req.param('id'));
      return c.body(null, 204);
    },
  );

  app.post(
    '/videos/:id/upload/complete',
    describe({
      summary: 'Mark an upload complete',
      tags: ['management'],
      security: 'service',
      body: CompleteUploadBody,
      responses: { 200: { description: 'The video', schema: Video } },
      errors: [400, 401, 404, 409, 422],
    }),
    async (c) => {
      const body = await parseJsonBody(c, CompleteUploadBody);
      const video = await deps.registry.completeUpload(
        c.req.param('id'),
        body.parts?.map((p) => ({ partNumber: p.part_number, etag: p.etag })),
      );
      return c.json(toVideoJson(video));
    },
  );

  app.get(
    '/videos/:id',
    describe({
      summary: 'Get a video',
      tags: ['management'],
      security: 'service',
      responses: { 200: { description: 'The video', schema: Video } },
      errors: [401, 404],
    }),
    async (c) => c.json(toVideoJson(await deps.registry.get(c.req.param('id')))),
  );

  app.patch(
    '/videos/:id',
    describe({
      summary: "Change a video's title, external_id or metadata",
      description:
        'Sets the fields the body names and leaves the others; `null` removes a title or external_id and empties ' +
        "metadata. `metadata` replaces the whole object. An external_id another of the owner's videos has is 409.",
      tags: ['management'],
      security: 'service',
      body: VideoPatchBody,
      responses: { 200: { description: 'The video', schema: Video } },
      errors: [400, 401, 404, 409],
    }),
    async (c) => {
      const body = await parseJsonBody(c, VideoPatchBody);
      return c.json(toVideoJson(await deps.registry.update(c.req.param('id'), detailsOf(body))));
    },
  );

  app.delete(
    '/videos/:id',
    describe({
      summary: 'Delete a video (source and HLS)',
      tags: ['management'],
      security: 'service',
      responses: { 204: { description: 'Deleted' } },
      errors: [401, 404],
    }),
    async (c) => {
      await deps.registry.remove(c.req.param('id'));
      return c.body(null, 204);
    },
  );

  // Pre-generation and an operator's retry are the same operation: start generation unless it is running or done.
  for (const [path, summary] of [
    ['/videos/:id/hls', 'Pre-generate HLS'],
    ['/videos/:id/hls/retry', 'Retry a failed generation (operator)'],
  ] as const) {
    app.post(
      path,
      describe({
        summary,
        tags: ['management'],
        security: 'service',
        responses: {
          200: { description: 'Already settled', schema: StreamSettled },
          202: { description: 'Generating', schema: StreamGenerating },
        },
        errors: [401, 404, 409],
      }),
      async (c) => {
        const answer = await deps.streams.pregenerate(await deps.registry.get(c.req.param('id')));
        return c.json(answer, answer.status === 'generating' ? 202 : 200);
      },
    );
  }

  app.delete(
    '/videos/:id/hls',
    describe({
      summary: 'Delete the HLS (the next view generates again)',
      tags: ['management'],
      security: 'service',
      responses: { 204: { description: 'Deleted' } },
      errors: [401, 404],
    }),
    async (c) => {
      await deps.registry.removeHls(c.req.param('id'));
      return c.body(null, 204);
    },
  );

  return app;
}
