import { Hono, type Context, type ErrorHandler, type MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import type { Logger } from 'pino';

import type { PlaybackTokens } from '../auth/playback-tokens.js';
import type { UserTokenVerifier } from '../auth/user-tokens.js';
import { createCaptionManageRoutes, createCaptionRoutes } from './routes/caption-routes.js';
import { createChapterManageRoutes, createChapterRoutes } from './routes/chapter-routes.js';
import { createAnalyticsManageRoutes, createAnalyticsRoutes } from './routes/analytics-routes.js';
import type { Db } from '../db/create-database.js';
import { databaseUnavailableError } from '../db/database-errors.js';
import type { Metrics } from '../observability/metrics.js';
import { isLocalStorage } from '../storage/local-storage.js';
import { storageUnavailableError, type Storage } from '../storage/storage.js';
import { createObjectUrls } from '../videos/object-urls.js';
import type { StreamService } from '../videos/stream-service.js';
import type { VideoRegistry } from '../videos/video-registry.js';
import { DomainError, ErrorCode } from '../errors/domain-error.js';
import { httpStatus, retryAfterHeader } from './errors.js';
import { clientAddress, createRateLimiter } from './rate-limit.js';
import { hasUnsafeText, jsonBodyLimit, UNSAFE_TEXT_MESSAGE } from './request-helpers.js';
import { describe, generateOpenApi } from './openapi.js';
import { API_REFERENCE_PAGE } from './api-reference-page.js';
import { requestIds } from './request-id.js';
import { createManageRoutes, type UserTokenMinter } from './routes/manage-routes.js';
import { createWebhookRoutes } from './routes/webhook-routes.js';
import type { WebhookEvents } from '../webhooks/events/publish-event.js';
import { createPlaylistRoutes } from './routes/playlist-routes.js';
import { createUserRoutes } from './routes/user-routes.js';
import { createDevTokenRoutes, type DevTokenRoutesDeps } from './routes/dev-token-routes.js';
import { createLocalStorageRoutes } from './routes/local-storage-routes.js';
import { createWebAppRoutes, type WebAppSettings } from './routes/web-app-routes.js';

/** The service's version, as published in the OpenAPI document. */
export const SERVICE_VERSION = '0.1.0';

export interface AppDeps {
  db: Db;
  storage: Storage;
  userTokens: UserTokenVerifier;
  playbackTokens: PlaybackTokens;
  serviceApiKey: string;
  streams: StreamService;
  registry: VideoRegistry;
  /** Queues the webhook events of changes made through the API (captions, chapters); default: registered endpoints only. */
  events?: WebhookEvents | undefined;
  /** Users may upload and delete their own videos through the user API (`USER_UPLOADS`). */
  userUploads?: boolean | undefined;
  /** When given, `POST /api/manage/tokens` mints user tokens (HS256 deployments; absent with AUTH_JWKS_URL). */
  userTokenMinter?: UserTokenMinter | undefined;
  /** When given, `POST /api/dev/token` mints user tokens (`DEV_LOGIN`). */
  devTokens?: DevTokenRoutesDeps | undefined;
  /** When given, the web page answers at `/` (`WEB_APP`). */
  webApp?: WebAppSettings | undefined;
  logger: Logger;
  /** `*`, or exact origins where `http://host:*` stands for any port of that host. */
  corsOrigins: '*' | readonly string[];
  /** Largest JSON body under `/api` (caption files have their own limit); default 64 KiB. */
  maxJsonBodyBytes?: number | undefined;
  /** Per client address and minute; 0 or absent disables a limit. */
  rateLimits?: { authFailures: number; devTokens: number; uploadRegistrations: number } | undefined;
  /** The client address is the last `X-Forwarded-For` entry (`TRUST_PROXY`). */
  trustProxy?: boolean | undefined;
  presignTtlSeconds: number;
  /** Object URLs in playlists are signed once per window of this many seconds (`PRESIGN_WINDOW_SECONDS`). */
  presignWindowSeconds?: number | undefined;
  /** Origin of a CDN in front of the storage (`SEGMENT_CDN_URL`). */
  segmentCdnUrl?: string | undefined;
  /** Checks `/readyz` runs; each rejects when its dependency is unreachable. */
  readiness: Record<string, () => Promise<void>>;
  /** When given, requests are measured and `/metrics` answers in the Prometheus text format. */
  metrics?: Metrics | undefined;
  /**
   * Extra sub-apps mounted at a path. (Local storage's signed object routes need none: they are mounted at its
   * `routePrefix` whenever `storage` is local storage.)
   */
  mounts?: Array<{ path: string; app: Hono }>;
}

/**
 * Builds the service's Hono app from its dependencies. It never listens: `startServer` (or a test's
 * `app.request()`) does.
 */
export function createApp(deps: AppDeps): Hono {
  const app = new Hono();

  // First, so every answer (errors and CORS preflights too) carries X-Request-Id.
  app.use('*', requestIds());

  const corsRule = corsRules(deps.corsOrigins);
  const localStorage = isLocalStorage(deps.storage) ? deps.storage : undefined;
  const objectPaths = localStorage ? `${localStorage.routePrefix}/o/` : undefined;
  // The local sign-in never answers CORS, not even a preflight: no other page may read a token from it.
  app.use('*', (c, next) =>
    c.req.path.startsWith('/api/dev/')
      ? next()
      : objectPaths && c.req.path.startsWith(objectPaths)
        ? corsRule.objects(c, next)
        : corsRule.api(c, next),
  );

  app.use('*', async (c, next) => {
    const started = performance.now();
    await next();
    // Never log query strings: they carry playback tokens and signatures.
    deps.logger.info(
      {
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        requestId: c.get('requestId'),
        ms: Math.round((performance.now() - started) * 10) / 10,
      },
      'request',
    );
  });

  if (deps.metrics) {
    const metrics = deps.metrics;
    app.use('*', metrics.httpMiddleware());
    app.get(
      '/metrics',
      describe({
        summary: 'Prometheus metrics',
        tags: ['operations'],
        security: 'none',
        responses: { 200: { description: 'Prometheus text format' } },
      }),
      async (c) =>
        c.body(await metrics.registry.metrics(), 200, { 'Content-Type': metrics.registry.contentType }),
    );
  }

  app.use('/api/*', apiGuard(deps));

  const ops = { tags: ['operations'], security: 'none' } as const;
  app.get(
    '/healthz',
    describe({ summary: 'Liveness', ...ops, responses: { 200: { description: 'The process answers' } } }),
    (c) => c.json({ status: 'ok' }),
  );
  app.get(
    '/readyz',
    describe({
      summary: 'Readiness: the database and storage answer',
      ...ops,
      responses: { 200: { description: 'Ready' }, 503: { description: 'A dependency is unreachable' } },
    }),
    async (c) => {
      const checks: Record<string, string> = {};
      let ok = true;
      await Promise.all(
        Object.entries(deps.readiness).map(async ([name, check]) => {
          try {
            await withTimeout(check(), 3000);
            checks[name] = 'ok';
          } catch (error) {
            ok = false;
            checks[name] = error instanceof Error ? error.message : 'unreachable';
          }
        }),
      );
      return c.json({ status: ok ? 'ok' : 'unavailable', checks }, ok ? 200 : 503);
    },
  );

  // One set of object URLs for playlists and caption tracks alike: one URL per object and signing window.
  const objectUrls = createObjectUrls(deps);
  app.route('/api/videos', createPlaylistRoutes({ ...deps, objectUrls }));
  // Before the user routes: the caption playback URLs carry a playback token, not a bearer token.
  app.route('/api/videos', createCaptionRoutes({ ...deps, objectUrls }));
  // Before the user routes too: chapters.vtt carries a playback token.
  app.route('/api/videos', createChapterRoutes(deps));
  // And the player's viewing reports, which carry a playback token.
  app.route('/api/videos', createAnalyticsRoutes(deps));
  app.route('/api/videos', createUserRoutes(deps));
  if (deps.devTokens) app.route('/api/dev', createDevTokenRoutes(deps.devTokens));
  if (deps.webApp) app.route('/', createWebAppRoutes(deps.webApp));
  app.route(
    '/api/manage',
    createManageRoutes({
      db: deps.db,
      serviceApiKey: deps.serviceApiKey,
      registry: deps.registry,
      streams: deps.streams,
      userTokenMinter: deps.userTokenMinter,
    }),
  );
  app.route(
    '/api/manage',
    createCaptionManageRoutes({
      db: deps.db,
      storage: deps.storage,
      serviceApiKey: deps.serviceApiKey,
      events: deps.events,
    }),
  );
  app.route(
    '/api/manage',
    createChapterManageRoutes({ db: deps.db, serviceApiKey: deps.serviceApiKey, events: deps.events }),
  );
  app.route('/api/manage/webhooks', createWebhookRoutes({ db: deps.db, serviceApiKey: deps.serviceApiKey }));
  app.route('/api/manage', createAnalyticsManageRoutes({ db: deps.db, serviceApiKey: deps.serviceApiKey }));
  if (localStorage) app.route(localStorage.routePrefix, createLocalStorageRoutes(localStorage));
  for (const mount of deps.mounts ?? []) app.route(mount.path, mount.app);

  let openApi: Promise<unknown> | undefined;
  app.get(
    '/openapi.json',
    describe({ summary: 'This document', ...ops, responses: { 200: { description: 'OpenAPI 3.1' } } }),
    async (c) => c.json(await (openApi ??= generateOpenApi(app, SERVICE_VERSION))),
  );
  app.get(
    '/api/reference',
    describe({
      summary: 'A readable reference of this API',
      ...ops,
      responses: { 200: { description: 'HTML' } },
    }),
    (c) => c.html(API_REFERENCE_PAGE),
  );

  app.notFound((c) => c.json({ error: { code: ErrorCode.NotFound, message: 'No such route.' } }, 404));

  app.onError(answerError(deps.logger));

  return app;
}

/**
 * The app's CORS rules for `origins` (`*`, or exact origins where `http://host:*` stands for any port of that
 * host): one for the API, one for local storage's signed object URLs, which players read by range and browsers
 * upload to (a create-only PUT sends `If-None-Match`).
 */
export function corsRules(origins: '*' | readonly string[]): {
  api: MiddlewareHandler;
  objects: MiddlewareHandler;
} {
  const origin = origins === '*' ? '*' : corsOriginMatcher(origins);
  return {
    api: cors({
      origin,
      allowMethods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
      allowHeaders: ['Authorization', 'Range', 'Content-Type', 'X-Request-Id'],
      exposeHeaders: [
        'Retry-After',
        'Content-Length',
        'Content-Range',
        'Accept-Ranges',
        'ETag',
        'X-Request-Id',
      ],
      maxAge: 600,
    }),
    objects: cors({
      origin,
      allowMethods: ['GET', 'HEAD', 'PUT'],
      allowHeaders: ['Range', 'Authorization', 'Content-Type', 'If-None-Match'],
      exposeHeaders: ['Content-Length', 'Content-Range', 'Accept-Ranges', 'ETag'],
      maxAge: 600,
    }),
  };
}

/**
 * The app's one error answer: a `DomainError` as `{ error: { code, message } }` with its code's status
 * (`httpStatus`; every 503 with `Retry-After`), Hono's own 4xx as `bad_request`, an unreachable database or
 * bucket as 503 `unavailable` with `Retry-After`, anything else as a logged 500.
 */
export function answerError(logger: Logger): ErrorHandler {
  const answerDomainError = (error: DomainError, c: Context) =>
    c.json(
      { error: { code: error.code, message: error.message } },
      httpStatus(error.code),
      retryAfterHeader(error),
    );
  return (error, c) => {
    if (error instanceof DomainError) return answerDomainError(error, c);
    const status = (error as { status?: unknown }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      // Hono's own HTTPExceptions (e.g. a malformed request it rejected).
      return c.json(
        { error: { code: ErrorCode.BadRequest, message: error.message || 'Bad request.' } },
        status as 400,
      );
    }
    const database = databaseUnavailableError(error);
    const unavailable = database ?? storageUnavailableError(error);
    if (unavailable) {
      const what = database ? 'database unavailable' : 'storage unavailable';
      logger.warn(
        { err: error, method: c.req.method, path: c.req.path, requestId: c.get('requestId') },
        what,
      );
      return answerDomainError(unavailable, c);
    }
    logger.error(
      { err: error, method: c.req.method, path: c.req.path, requestId: c.get('requestId') },
      'unhandled error',
    );
    return c.json({ error: { code: ErrorCode.Internal, message: 'Something went wrong on our side.' } }, 500);
  };
}

/** Exact origins, and `scheme://host:*` for any port of a host (`http://localhost:*`). */
function corsOriginMatcher(origins: readonly string[]): (origin: string) => string | null {
  const exact = new Set(origins.filter((o) => !o.endsWith(':*')));
  const anyPort = origins.filter((o) => o.endsWith(':*')).map((o) => o.slice(0, -2));
  return (origin) => {
    if (exact.has(origin)) return origin;
    for (const base of anyPort) {
      if (
        origin === base ||
        (origin.startsWith(`${base}:`) && /^\d{1,5}$/.test(origin.slice(base.length + 1)))
      ) {
        return origin;
      }
    }
    return null;
  };
}

const CAPTION_FILE = /^\/api\/(?:manage\/)?videos\/[^/]+\/captions\/[^/]+$/;
/** Chapters (JSON or WebVTT) have their own, larger limit (chapter-routes.ts). */
const CHAPTERS_BODY = /^\/api\/(?:manage\/)?videos\/[^/]+\/chapters$/;

/**
 * What every `/api` request passes before its route: the failed-authentication limit per client address, text
 * without control characters in the path and query, the dev-token and upload-registration limits, and the JSON body
 * limit (caption files, the only non-JSON bodies under `/api`, have their own).
 */
function apiGuard(deps: AppDeps): MiddlewareHandler {
  const limits = deps.rateLimits ?? { authFailures: 0, devTokens: 0, uploadRegistrations: 0 };
  const authFailures = createRateLimiter({ limit: limits.authFailures });
  const devTokens = createRateLimiter({ limit: limits.devTokens });
  const registrations = createRateLimiter({ limit: limits.uploadRegistrations });
  const limitBody = jsonBodyLimit(deps.maxJsonBodyBytes ?? 64 * 1024);
  const trustProxy = deps.trustProxy ?? false;

  return async (c, next) => {
    const address = clientAddress(c, trustProxy);
    const blocked = authFailures.retryAfter(address);
    if (blocked > 0) {
      return rateLimited(c, blocked, 'Too many failed sign-ins from this address; wait before trying again.');
    }
    if (!textIsSafe(c)) {
      throw new DomainError(ErrorCode.BadRequest, `The path and query parameters ${UNSAFE_TEXT_MESSAGE}.`);
    }
    if (c.req.method === 'POST') {
      const path = c.req.path.replace(/\/+$/, '');
      const limiter =
        path === '/api/dev/token' ? devTokens : path === '/api/videos' ? registrations : undefined;
      const wait = limiter?.count(address) ?? 0;
      if (wait > 0) {
        return rateLimited(
          c,
          wait,
          limiter === devTokens
            ? 'Too many sign-ins from this address; wait before trying again.'
            : 'Too many upload registrations from this address; wait before registering more.',
        );
      }
    }
    const ownLimit = CAPTION_FILE.test(c.req.path) || CHAPTERS_BODY.test(c.req.path);
    const run = c.req.method === 'PUT' && ownLimit ? next : () => limitBody(c, next);
    // The body limit answers by returning its 413 rather than setting it.
    const refused = await run();
    if (refused instanceof Response) c.res = refused;
    if (c.res.status === 401) authFailures.count(address);
  };
}

function textIsSafe(c: Context): boolean {
  let path = c.req.path;
  try {
    path = decodeURIComponent(path);
  } catch {
    // Malformed escapes are the router's to answer; the raw path has no decoded control characters.
  }
  if (hasUnsafeText(path)) return false;
  for (const [name, values] of Object.entries(c.req.queries())) {
    if (hasUnsafeText(name) || values.some(hasUnsafeText)) return false;
  }
  return true;
}

function rateLimited(c: Context, retryAfterSeconds: number, message: string): Response {
  return c.json({ error: { code: ErrorCode.RateLimited, message } }, 429, {
    'Retry-After': String(retryAfterSeconds),
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
