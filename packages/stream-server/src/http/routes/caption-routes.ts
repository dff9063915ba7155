import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { createMiddleware } from 'hono/factory';
import { describeRoute } from 'hono-openapi';

import type { PlaybackTokens } from '../../auth/playback-tokens.js';
import type { UserTokenVerifier } from '../../auth/user-tokens.js';
import type { Db } from '../../db/create-database.js';
import type { VideoRow } from '../../db/schema.js';
import { Caption, CaptionList, ErrorBody } from '../api-schemas.js';
import {
  DomainError,
  ErrorCode,
  InvalidInputError,
  ForbiddenError,
  NotFoundError,
} from '../../errors/domain-error.js';
import { describe } from '../openapi.js';
import {
  ownedVideo,
  requireServiceKey,
  requireUser,
  watchableVideo,
  type UserEnv,
  videoOfPath,
} from '../auth-middleware.js';
import type { Storage } from '../../storage/storage.js';
import { findCaption, listCaptions } from '../../captions/captions-repository.js';
import {
  captionTooLarge,
  playableCaption,
  readPlayableCaptionText,
  removeCaption,
  saveCaption,
  type CaptionDeps,
  toCaptionJson,
} from '../../captions/captions-service.js';
import { canonicalLanguage } from '../../captions/language-tag.js';
import { authorizePlayback } from '../../videos/playback-access.js';
import { captionFileOf, PLAYBACK_TOKEN_PARAM, PlaybackRoute } from '../../videos/playback-urls.js';
import type { ObjectUrls } from '../../videos/object-urls.js';
import { buildSubtitlePlaylist } from '../../captions/subtitle-playlist.js';
import { MAX_CAPTION_BYTES } from '../../captions/webvtt.js';
import type { WebhookEvents } from '../../webhooks/events/publish-event.js';

export interface CaptionRoutesDeps {
  db: Db;
  storage: Storage;
  userTokens: UserTokenVerifier;
  playbackTokens: PlaybackTokens;
  /** The URLs players fetch caption files from storage with: one per file and signing window (decision 0016). */
  objectUrls: ObjectUrls;
  /** Users may add and delete captions of their own videos (`USER_UPLOADS`); otherwise those routes answer 403. */
  userUploads?: boolean | undefined;
  /** Announces caption changes (`video.captions.updated`); default: registered endpoints only. */
  events?: WebhookEvents | undefined;
}

/** Content types a caption upload may have (none is accepted too); the charset, if given, must be UTF-8. */
const CAPTION_TYPES = new Set(['text/vtt', 'text/plain', 'application/octet-stream']);

function checkContentType(c: Context): void {
  const header = c.req.header('content-type');
  if (!header) return;
  const [type = '', ...params] = header.split(';').map((part) => part.trim().toLowerCase());
  if (!CAPTION_TYPES.has(type)) {
    throw new InvalidInputError(
      `Send the WebVTT file itself as the body, with Content-Type: text/vtt (got ${type}); ` +
        'e.g. curl -X PUT -H "Content-Type: text/vtt" --data-binary @captions.vtt …',
    );
  }
  const charset = params
    .find((p) => p.startsWith('charset='))
    ?.slice('charset='.length)
    .replace(/"/g, '');
  if (charset && charset !== 'utf-8' && charset !== 'utf8') {
    throw new InvalidInputError(
      `WebVTT files are UTF-8; the body says charset=${charset}. Convert it to UTF-8.`,
    );
  }
}

function parseDefault(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new InvalidInputError('default must be true or false.');
}

/**
 * 413 past {@link MAX_CAPTION_BYTES}, with `Connection: close`: the rest of the body is never read, so the client
 * must not send its next request on this connection.
 */
const limitBody = bodyLimit({
  maxSize: MAX_CAPTION_BYTES,
  onError: (c) => {
    const error = captionTooLarge();
    return c.json({ error: { code: error.code, message: error.message } }, 413, { Connection: 'close' });
  },
});

/** The OpenAPI request body of a caption upload (describe() knows JSON bodies only). */
const describeVttBody = describeRoute({
  requestBody: {
    required: true,
    description: `The WebVTT file, UTF-8, at most ${MAX_CAPTION_BYTES / 1024 / 1024} MiB`,
    content: { 'text/vtt': { schema: { type: 'string' } }, 'text/plain': { schema: { type: 'string' } } },
  },
});

const putParameters = [
  {
    name: 'label',
    in: 'query' as const,
    description:
      "What players show; default: the language's English name, e.g. 'Portuguese (Brazil)'. Kept on replace when absent.",
  },
  {
    name: 'default',
    in: 'query' as const,
    description:
      '`true` makes this the track shown without choosing (the others lose it); kept on replace when absent',
  },
];

const putResponses = {
  200: { description: 'Replaced', schema: Caption },
  201: { description: 'Created', schema: Caption },
  413: { description: `Larger than ${MAX_CAPTION_BYTES / 1024 / 1024} MiB`, schema: ErrorBody },
};

const putDescription =
  'The body is the WebVTT file (Content-Type text/vtt or text/plain). It is checked — a malformed file is a 400 ' +
  "naming the line — and stored with LF line ends and no BOM. Cue times are relative to the video's start.";

/** Reads a caption upload's body (after the size limit) and stores it for `video`. */
async function putCaption(c: Context, deps: CaptionDeps, video: VideoRow) {
  checkContentType(c);
  const body = new Uint8Array(await c.req.arrayBuffer());
  const { created, caption } = await saveCaption(deps, video, {
    language: c.req.param('language') ?? '',
    body,
    label: c.req.query('label'),
    isDefault: parseDefault(c.req.query('default')),
  });
  return c.json(toCaptionJson(caption), created ? 201 : 200);
}

/**
 * Caption routes under `/api/videos`:
 *
 * - with the user's bearer token, on their own videos (unknown and not-yours are both 404):
 *   `GET /{id}/captions`, and — when `USER_UPLOADS` is on, like the other user writes — `PUT` and `DELETE
 *   /{id}/captions/{language}`;
 * - with the playback token from `/stream` in the URL, like the playlist: `GET /{id}/captions/{language}.m3u8` (a
 *   WebVTT subtitle media playlist for a master playlist's `#EXT-X-MEDIA`, whose one segment is the file in storage
 *   at a URL every viewer of a signing window shares) and `GET /{id}/captions/{language}.vtt` (the same file through
 *   the service, for players and playlists from before).
 *
 * Mount it before the user routes: their bearer-token middleware would otherwise refuse the playback URLs.
 */
export function createCaptionRoutes(deps: CaptionRoutesDeps) {
  const app = new Hono<UserEnv>();

  const requireCaller = requireUser(deps.userTokens);
  const requireUserWrites = createMiddleware<UserEnv>(async (_c, next) => {
    if (!deps.userUploads) {
      throw new ForbiddenError(
        'This server does not take caption uploads or deletes from users (USER_UPLOADS is off): the host app does that through the management API.',
      );
    }
    await next();
  });

  app.get(
    '/:id/captions',
    describe({
      summary:
        "List the caption tracks of a video you may watch (yours, or granted by your token's watch claim)",
      tags: ['captions'],
      security: 'user',
      responses: { 200: { description: 'By language tag', schema: CaptionList } },
      errors: [401, 404],
    }),
    requireCaller,
    async (c) => {
      const video = await watchableVideo(c, deps.db);
      c.header('Cache-Control', 'no-store');
      return c.json({ captions: (await listCaptions(deps.db, video.id)).map(toCaptionJson) });
    },
  );

  app.put(
    '/:id/captions/:language',
    describe({
      summary: 'Add or replace a caption track of your video (USER_UPLOADS)',
      description: putDescription,
      tags: ['captions'],
      security: 'user',
      parameters: putParameters,
      responses: putResponses,
      errors: [400, 401, 403, 404, 409],
    }),
    describeVttBody,
    requireCaller,
    requireUserWrites,
    limitBody,
    async (c) => putCaption(c, deps, await ownedVideo(c, deps.db)),
  );

  app.delete(
    '/:id/captions/:language',
    describe({
      summary: 'Delete a caption track of your video (USER_UPLOADS)',
      tags: ['captions'],
      security: 'user',
      responses: { 204: { description: 'Deleted (the file too)' } },
      errors: [400, 401, 403, 404],
    }),
    requireCaller,
    requireUserWrites,
    async (c) => {
      await removeCaption(deps, await ownedVideo(c, deps.db), c.req.param('language'));
      return c.body(null, 204);
    },
  );

  app.get(
    PlaybackRoute.Caption,
    describe({
      summary:
        'Playback: a caption track as an HLS subtitle playlist ({language}.m3u8) or WebVTT ({language}.vtt)',
      description:
        'Guarded by the playback token in the URL, like the playlist. `{language}.m3u8` is a VOD WebVTT subtitle ' +
        "media playlist with one segment spanning the video, for a master playlist's `#EXT-X-MEDIA:TYPE=SUBTITLES`; " +
        'its segment is the WebVTT file in storage, presigned like the video segments (the same URL for every viewer ' +
        'of a signing window, cacheable by a shared cache), with `X-TIMESTAMP-MAP=MPEGTS:126000,LOCAL:00:00:00.000` ' +
        "so its cues line up with the segments' timeline (1.4 s) in hls.js and Safari. `{language}.vtt` answers the " +
        'same file through the service (private, no-store).',
      tags: ['playback'],
      security: 'none',
      parameters: [
        { name: 'token', in: 'query', required: true, description: 'Playback token from /stream' },
      ],
      responses: { 200: { description: 'A subtitle playlist or a WebVTT file' } },
      errors: [401, 403, 404, 409],
    }),
    describeRoute({
      responses: {
        200: {
          description: 'A subtitle playlist (`.m3u8`) or a WebVTT file (`.vtt`)',
          content: {
            'application/vnd.apple.mpegurl': { schema: { type: 'string' } },
            'text/vtt': { schema: { type: 'string' } },
          },
        },
      },
    }),
    async (c) => {
      const token = c.req.query(PLAYBACK_TOKEN_PARAM);
      const video = await authorizePlayback(deps, c.req.param('id'), token);
      const file = captionFileOf(c.req.param('language'));
      const language = file && canonicalLanguage(file.language);
      const caption = language ? await findCaption(deps.db, video.id, language) : undefined;
      if (!file || !caption) throw new NotFoundError('The video has no captions in that language.');

      if (file.kind === 'm3u8') {
        const duration = video.duration_seconds;
        if (duration === null || !(duration > 0)) {
          throw new DomainError(
            ErrorCode.Conflict,
            'The video has no known duration yet (its HLS is not ready); ask /stream again.',
          );
        }
        // The file in storage, at the URL every viewer of this signing window gets (decision 0016).
        const playable = await playableCaption(deps, video, caption);
        const uri = await deps.objectUrls.get(playable.storage_key);
        return c.body(buildSubtitlePlaylist(duration, uri), 200, {
          'Content-Type': 'application/vnd.apple.mpegurl',
          'Cache-Control': 'private, no-store',
        });
      }
      return c.body(await readPlayableCaptionText(deps.storage, caption), 200, {
        'Content-Type': 'text/vtt; charset=utf-8',
        'Cache-Control': 'private, no-store',
      });
    },
  );

  return app;
}

/**
 * The same caption management for a trusted backend with the service API key, under `/api/manage`:
 * `GET /videos/{id}/captions`, `PUT` and `DELETE /videos/{id}/captions/{language}`. It checks the key itself, so it
 * is safe wherever it is mounted.
 */
export function createCaptionManageRoutes(deps: CaptionDeps & { serviceApiKey: string }) {
  const app = new Hono();

  const requireService = requireServiceKey(deps.serviceApiKey);
  const video = (c: Context) => videoOfPath(c, deps.db);

  app.get(
    '/videos/:id/captions',
    describe({
      summary: "List a video's caption tracks",
      tags: ['management'],
      security: 'service',
      responses: { 200: { description: 'By language tag', schema: CaptionList } },
      errors: [401, 404],
    }),
    requireService,
    async (c) => c.json({ captions: (await listCaptions(deps.db, (await video(c)).id)).map(toCaptionJson) }),
  );

  app.put(
    '/videos/:id/captions/:language',
    describe({
      summary: 'Add or replace a caption track',
      description: putDescription,
      tags: ['management'],
      security: 'service',
      parameters: putParameters,
      responses: putResponses,
      errors: [400, 401, 404, 409],
    }),
    describeVttBody,
    requireService,
    limitBody,
    async (c) => putCaption(c, deps, await video(c)),
  );

  app.delete(
    '/videos/:id/captions/:language',
    describe({
      summary: 'Delete a caption track',
      tags: ['management'],
      security: 'service',
      responses: { 204: { description: 'Deleted (the file too)' } },
      errors: [400, 401, 404],
    }),
    requireService,
    async (c) => {
      await removeCaption(deps, await video(c), c.req.param('language'));
      return c.body(null, 204);
    },
  );

  return app;
}
