import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';

import { recordWatchReport, videoAnalytics, type EndedSession } from '../../analytics/analytics-service.js';
import { MAX_REPORT_BYTES } from '../../analytics/watch-report.js';
import type { PlaybackTokens } from '../../auth/playback-tokens.js';
import type { UserTokenVerifier } from '../../auth/user-tokens.js';
import type { Db } from '../../db/create-database.js';
import { DomainError, ErrorCode, InvalidInputError } from '../../errors/domain-error.js';
import type { Metrics } from '../../observability/metrics.js';
import { authorizePlayback } from '../../videos/playback-access.js';
import { PLAYBACK_TOKEN_PARAM } from '../../videos/playback-urls.js';
import { ErrorBody, VideoAnalytics, WatchReportBody } from '../api-schemas.js';
import { ownedVideo, requireServiceKey, videoOfPath, requireUser, type UserEnv } from '../auth-middleware.js';
import { describe } from '../openapi.js';

export interface AnalyticsRoutesDeps {
  db: Db;
  userTokens: UserTokenVerifier;
  playbackTokens: PlaybackTokens;
  metrics?: Metrics | undefined;
}

/** 413 past {@link MAX_REPORT_BYTES}, with `Connection: close`. */
const limitBody = bodyLimit({
  maxSize: MAX_REPORT_BYTES,
  onError: (c) =>
    c.json(
      {
        error: {
          code: ErrorCode.PayloadTooLarge,
          message: `A viewing report may be at most ${MAX_REPORT_BYTES / 1024} KiB.`,
        },
      },
      413,
      { Connection: 'close' },
    ),
});

/** The report's JSON, sent as `text/plain` (what `navigator.sendBeacon` sends for a string) or `application/json`. */
async function readReport(c: Context): Promise<unknown> {
  const type = c.req.header('content-type')?.split(';')[0]?.trim().toLowerCase();
  if (type && type !== 'text/plain' && type !== 'application/json') {
    throw new DomainError(
      ErrorCode.UnsupportedMediaType,
      `Send the report as JSON text (Content-Type: text/plain or application/json); got ${type}.`,
    );
  }
  try {
    return JSON.parse(await c.req.text());
  } catch {
    throw new InvalidInputError('The report is not valid JSON.');
  }
}

function observe(metrics: Metrics | undefined, ended: EndedSession | undefined): void {
  if (!metrics || !ended) return;
  if (ended.startupMs !== null) metrics.playbackStartup.observe(ended.startupMs / 1000);
  if (ended.rebufferRatio !== null) metrics.playbackRebufferRatio.observe(ended.rebufferRatio);
}

/**
 * Watch analytics under `/api/videos`: the player's viewing reports, `POST /{id}/analytics?token=…` with the playback
 * token from `/stream` (a viewer reports only on what they were allowed to watch), and the owner's aggregates,
 * `GET /{id}/analytics` with their bearer token. Mount it before the user routes (the report has no bearer token).
 */
export function createAnalyticsRoutes(deps: AnalyticsRoutesDeps) {
  const app = new Hono<UserEnv>();

  app.post(
    '/:id/analytics',
    describe({
      summary: "Playback: the player's report of one viewing session",
      description:
        'Sent by `<notetaker-player>` with `navigator.sendBeacon` when the page is hidden and every 30 s while ' +
        'playing; each report is the whole session so far and replaces the previous one (one row per session). ' +
        'Guarded by the playback token in the URL, like the playlist. No cookie, no IP address is stored.',
      tags: ['playback'],
      security: 'none',
      parameters: [
        { name: 'token', in: 'query', required: true, description: 'Playback token from /stream' },
      ],
      body: WatchReportBody,
      responses: {
        204: { description: 'Recorded' },
        413: { description: `Larger than ${MAX_REPORT_BYTES / 1024} KiB`, schema: ErrorBody },
      },
      errors: [400, 401, 403, 404, 409, 415],
    }),
    limitBody,
    async (c) => {
      const token = c.req.query(PLAYBACK_TOKEN_PARAM);
      const video = await authorizePlayback(deps, c.req.param('id'), token);
      const viewer = (await deps.playbackTokens.verify(token ?? '')).userId;
      observe(deps.metrics, await recordWatchReport(deps.db, video, viewer, await readReport(c)));
      return c.body(null, 204);
    },
  );

  app.get(
    '/:id/analytics',
    describe({
      summary: "Your video's watch analytics",
      tags: ['analytics'],
      security: 'user',
      responses: { 200: { description: 'Computed over every viewing session', schema: VideoAnalytics } },
      errors: [401, 404],
    }),
    requireUser(deps.userTokens),
    async (c) => {
      c.header('Cache-Control', 'no-store');
      return c.json(await videoAnalytics(deps.db, await ownedVideo(c, deps.db)));
    },
  );

  return app;
}

/** `GET /videos/{id}/analytics` for a trusted backend with the service API key, under `/api/manage`. */
export function createAnalyticsManageRoutes(deps: { db: Db; serviceApiKey: string }) {
  const app = new Hono();
  app.get(
    '/videos/:id/analytics',
    describe({
      summary: "A video's watch analytics",
      tags: ['management'],
      security: 'service',
      responses: { 200: { description: 'Computed over every viewing session', schema: VideoAnalytics } },
      errors: [401, 404],
    }),
    requireServiceKey(deps.serviceApiKey),
    async (c) => {
      return c.json(await videoAnalytics(deps.db, await videoOfPath(c, deps.db)));
    },
  );
  return app;
}
