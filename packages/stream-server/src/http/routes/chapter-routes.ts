import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { createMiddleware } from 'hono/factory';
import { describeRoute } from 'hono-openapi';

import type { PlaybackTokens } from '../../auth/playback-tokens.js';
import type { UserTokenVerifier } from '../../auth/user-tokens.js';
import { MAX_CHAPTERS, MAX_CHAPTERS_BYTES, MAX_CHAPTER_TITLE } from '../../chapters/chapters.js';
import {
  chaptersTrack,
  readChapters,
  removeChapters,
  saveChapters,
  type ChaptersInput,
} from '../../chapters/chapters-service.js';
import type { Db } from '../../db/create-database.js';
import type { VideoRow } from '../../db/schema.js';
import { DomainError, ErrorCode, ForbiddenError, InvalidInputError } from '../../errors/domain-error.js';
import { authorizePlayback } from '../../videos/playback-access.js';
import { PLAYBACK_TOKEN_PARAM, PlaybackRoute } from '../../videos/playback-urls.js';
import { ChapterList, ChaptersBody, ErrorBody } from '../api-schemas.js';
import {
  ownedVideo,
  requireServiceKey,
  requireUser,
  watchableVideo,
  type UserEnv,
  videoOfPath,
} from '../auth-middleware.js';
import { describe } from '../openapi.js';
import { parseJsonBody } from '../request-helpers.js';
import type { WebhookEvents } from '../../webhooks/events/publish-event.js';

export interface ChapterRoutesDeps {
  db: Db;
  userTokens: UserTokenVerifier;
  playbackTokens: PlaybackTokens;
  /** Users may set and delete chapters of their own videos (`USER_UPLOADS`); otherwise those routes answer 403. */
  userUploads?: boolean | undefined;
  /** Announces chapter changes (`video.chapters.updated`); default: registered endpoints only. */
  events?: WebhookEvents | undefined;
}

const KIB = MAX_CHAPTERS_BYTES / 1024;

/** 413 past {@link MAX_CHAPTERS_BYTES}, with `Connection: close` (the rest of the body is never read). */
const limitBody = bodyLimit({
  maxSize: MAX_CHAPTERS_BYTES,
  onError: (c) =>
    c.json(
      {
        error: {
          code: ErrorCode.PayloadTooLarge,
          message: `A chapters body (JSON or WebVTT) may be at most ${KIB} KiB.`,
        },
      },
      413,
      { Connection: 'close' },
    ),
});

const putDescription =
  `The body is JSON (\`Content-Type: application/json\`, \`{ "chapters": [{ "start_seconds": 0, "title": "Intro" }] }\`) ` +
  `or a WebVTT \`kind=chapters\` file (\`Content-Type: text/vtt\`, one cue per chapter, its text the title). ` +
  `Chapters are sorted by start with unique starts, the first at 0, each before the end of the video when its ` +
  `duration is known; titles 1–${MAX_CHAPTER_TITLE} characters; at most ${MAX_CHAPTERS}; at most ${KIB} KiB. ` +
  `A malformed body is a 400 naming the problem; the chapters are replaced whole (an empty list removes them).`;

/** The OpenAPI request body of a chapters upload: JSON or WebVTT. */
const describePutBody = describeRoute({
  requestBody: {
    required: true,
    content: {
      'application/json': {
        schema: {
          type: 'object',
          required: ['chapters'],
          properties: {
            chapters: {
              type: 'array',
              maxItems: MAX_CHAPTERS,
              items: {
                type: 'object',
                required: ['start_seconds', 'title'],
                properties: {
                  start_seconds: { type: 'number', minimum: 0 },
                  title: { type: 'string', minLength: 1, maxLength: MAX_CHAPTER_TITLE },
                },
              },
            },
          },
        },
      },
      'text/vtt': { schema: { type: 'string' } },
    },
  },
});

const putResponses = {
  200: { description: 'The chapters as stored', schema: ChapterList },
  413: { description: `Larger than ${KIB} KiB`, schema: ErrorBody },
};

/** Reads a chapters upload, by its content type: JSON, or a WebVTT file; anything else is a 415. */
async function readInput(c: Context): Promise<ChaptersInput> {
  const header = c.req.header('content-type') ?? '';
  const [type = '', ...params] = header.split(';').map((part) => part.trim().toLowerCase());
  if (type === 'application/json') {
    const body = await parseJsonBody(c, ChaptersBody);
    return { kind: 'json', chapters: body.chapters };
  }
  if (type === 'text/vtt' || type === 'text/plain') {
    const charset = params
      .find((p) => p.startsWith('charset='))
      ?.slice('charset='.length)
      .replace(/"/g, '');
    if (charset && charset !== 'utf-8' && charset !== 'utf8') {
      throw new InvalidInputError(
        `WebVTT files are UTF-8; the body says charset=${charset}. Convert it to UTF-8.`,
      );
    }
    return { kind: 'vtt', body: new Uint8Array(await c.req.arrayBuffer()) };
  }
  throw new DomainError(
    ErrorCode.UnsupportedMediaType,
    `Send the chapters as JSON (Content-Type: application/json) or as a WebVTT file (Content-Type: text/vtt); got ${type || 'none'}.`,
  );
}

async function putChapters(c: Context, db: Db, video: VideoRow, events: WebhookEvents | undefined) {
  const saved = await saveChapters(db, video, await readInput(c), events);
  c.header('Cache-Control', 'no-store');
  return c.json(saved, 200);
}

/**
 * Chapter routes under `/api/videos`:
 *
 * - with the user's bearer token, on their own videos (unknown and not-yours are both 404): `GET /{id}/chapters`,
 *   and — when `USER_UPLOADS` is on, like the other user writes — `PUT` and `DELETE /{id}/chapters`;
 * - with the playback token from `/stream` in the URL, like captions: `GET /{id}/chapters.vtt` (the chapters as a
 *   WebVTT `kind=chapters` track, the `chapters_url` of a ready `/stream` answer).
 *
 * Mount it before the user routes: their bearer-token middleware would otherwise refuse the playback URL.
 */
export function createChapterRoutes(deps: ChapterRoutesDeps) {
  const app = new Hono<UserEnv>();

  const requireCaller = requireUser(deps.userTokens);
  const requireUserWrites = createMiddleware<UserEnv>(async (_c, next) => {
    if (!deps.userUploads) {
      throw new ForbiddenError(
        'This server does not take chapter changes from users (USER_UPLOADS is off): the host app does that through the management API.',
      );
    }
    await next();
  });

  app.get(
    PlaybackRoute.Chapters,
    describe({
      summary: 'Playback: the chapters as a WebVTT kind=chapters track',
      description:
        'Guarded by the playback token in the URL, like the playlist and the captions. One cue per chapter, ending ' +
        'where the next starts (the last at the end of the video); cue times are relative to the start of the video.',
      tags: ['playback'],
      security: 'none',
      parameters: [
        { name: 'token', in: 'query', required: true, description: 'Playback token from /stream' },
      ],
      responses: { 200: { description: 'A WebVTT file', content: 'vtt' } },
      errors: [401, 403, 404],
    }),
    async (c) => {
      const video = await authorizePlayback(deps, c.req.param('id'), c.req.query(PLAYBACK_TOKEN_PARAM));
      return c.body(await chaptersTrack(deps.db, video), 200, {
        'Content-Type': 'text/vtt; charset=utf-8',
        'Cache-Control': 'private, no-store',
      });
    },
  );

  app.get(
    '/:id/chapters',
    describe({
      summary: "The chapters of a video you may watch (yours, or granted by your token's watch claim)",
      tags: ['chapters'],
      security: 'user',
      responses: { 200: { description: 'Sorted by start', schema: ChapterList } },
      errors: [401, 404],
    }),
    requireCaller,
    async (c) => {
      c.header('Cache-Control', 'no-store');
      return c.json(await readChapters(deps.db, await watchableVideo(c, deps.db)));
    },
  );

  app.put(
    '/:id/chapters',
    describe({
      summary: 'Set the chapters of your video (USER_UPLOADS)',
      description: putDescription,
      tags: ['chapters'],
      security: 'user',
      responses: putResponses,
      errors: [400, 401, 403, 404, 415],
    }),
    describePutBody,
    requireCaller,
    requireUserWrites,
    limitBody,
    async (c) => putChapters(c, deps.db, await ownedVideo(c, deps.db), deps.events),
  );

  app.delete(
    '/:id/chapters',
    describe({
      summary: 'Delete the chapters of your video (USER_UPLOADS)',
      tags: ['chapters'],
      security: 'user',
      responses: { 204: { description: 'Deleted' } },
      errors: [401, 403, 404],
    }),
    requireCaller,
    requireUserWrites,
    async (c) => {
      await removeChapters(deps.db, await ownedVideo(c, deps.db), deps.events);
      return c.body(null, 204);
    },
  );

  return app;
}

/**
 * The same chapter management for a trusted backend with the service API key, under `/api/manage`:
 * `GET`, `PUT` and `DELETE /videos/{id}/chapters`. It checks the key itself, so it is safe wherever it is mounted.
 */
export function createChapterManageRoutes(deps: {
  db: Db;
  serviceApiKey: string;
  events?: WebhookEvents | undefined;
}) {
  const app = new Hono();

  const requireService = requireServiceKey(deps.serviceApiKey);
  const video = (c: Context) => videoOfPath(c, deps.db);

  app.get(
    '/videos/:id/chapters',
    describe({
      summary: "A video's chapters",
      tags: ['management'],
      security: 'service',
      responses: { 200: { description: 'Sorted by start', schema: ChapterList } },
      errors: [401, 404],
    }),
    requireService,
    async (c) => c.json(await readChapters(deps.db, await video(c))),
  );

  app.put(
    '/videos/:id/chapters',
    describe({
      summary: "Set a video's chapters",
      description: putDescription,
      tags: ['management'],
      security: 'service',
      responses: putResponses,
      errors: [400, 401, 404, 415],
    }),
    describePutBody,
    requireService,
    limitBody,
    async (c) => putChapters(c, deps.db, await video(c), deps.events),
  );

  app.delete(
    '/videos/:id/chapters',
    describe({
      summary: "Delete a video's chapters",
      tags: ['management'],
      security: 'service',
      responses: { 204: { description: 'Deleted' } },
      errors: [401, 404],
    }),
    requireService,
    async (c) => {
      await removeChapters(deps.db, await video(c), deps.events);
      return c.body(null, 204);
    },
  );

  return app;
}
