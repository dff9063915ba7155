import { randomUUID } from 'node:crypto';
import { mkdir, stat } from 'node:fs/promises';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import os from 'node:os';

import { serve, type ServerType } from '@hono/node-server';
import type { Hono } from 'hono';
import { pino, type Logger } from 'pino';

import { createPlaybackTokens } from '../auth/playback-tokens.js';
import { createUserTokenVerifier, mintUserToken } from '../auth/user-tokens.js';
import { defaultWebDir } from '../http/routes/web-app-routes.js';
import { ConfigError, isLoopbackHost, loadConfig, type Config } from '../config/load-config.js';
import { ensurePrivateDir, loadOrCreateSecrets, usePrivateUmask, type Secrets } from '../config/secrets.js';
import { createDatabase, type Database } from '../db/create-database.js';
import { isDatabaseUnavailable } from '../db/database-errors.js';
import { createProcessLauncher } from '../media/process-launcher.js';
import { createProcessBudget } from '../media/process-budget.js';
import { createGenerationJobs } from '../generation/generation-handler.js';
import { removeOrphanedHls, removeOrphanedSources } from '../generation/cleanup.js';
import { createJobRunner, type JobRunner } from '../jobs/job-runner.js';
import { processTempRoot, removeOrphanedTempDirs, tempParent } from '../jobs/temp-folders.js';
import { createVideoTaskJobs } from '../tasks/video-task-handler.js';
import { diskStatus } from '../generation/disk-space.js';
import { createApp } from '../http/create-app.js';
import { createMetrics } from '../observability/metrics.js';
import { createWebhookDeliveryJobs } from '../webhooks/delivery/webhook-delivery-handler.js';
import { checkEventFilter } from '../webhooks/events/event-types.js';
import { createWebhookEvents } from '../webhooks/events/publish-event.js';
import { countGeneratingVideos, startHlsGeneration } from '../videos/videos-repository.js';
import { createStorage } from './create-storage.js';
import type { Storage } from '../storage/storage.js';
import { createStreamService, type StreamService } from '../videos/stream-service.js';
import { backlogRetryAfter } from '../videos/generation-backlog.js';
import { createVideoRegistry, type VideoRegistry } from '../videos/video-registry.js';

export interface StartServerOptions {
  /** The environment to configure from (see docs/configuration.md). Defaults to `process.env`. */
  env?: Record<string, string | undefined>;
  /** A pino logger, or 'silent'. Defaults to JSON logs on stdout at `LOG_LEVEL`. */
  logger?: Logger | 'silent';
  /** Run the HTTP API (default true). `false` runs a worker-only process. */
  api?: boolean;
}

export interface RunningServer {
  /** Base URL the API answers at (no trailing slash); empty for a worker-only process. */
  readonly url: string;
  readonly config: Config;
  readonly app: Hono | undefined;
  readonly database: Database;
  readonly storage: Storage;
  readonly registry: VideoRegistry;
  /** The job runner (generation, after-ready tasks, webhook deliveries); `undefined` when WORKER_ENABLED is off. */
  readonly worker: JobRunner | undefined;
  readonly serviceApiKey: string;
  /**
   * Mints a user token this server accepts (HS256 deployments and the embedded default only); `watch` grants other
   * users' videos to play.
   */
  mintUserToken(sub: string, ttlSeconds?: number, watch?: readonly string[]): Promise<string>;
  /** Uploads a file from disk and registers it, through the same registry the management API uses. */
  importVideo(filePath: string, options: { ownerId: string; title?: string }): Promise<{ id: string }>;
  /** Graceful stop: no new connections, running jobs handed back, pools closed. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts the service from its configuration: database (migrated), storage, HTTP API and/or generation worker.
 *
 * @example
 * const server = await startServer({ env: { DATA_DIR: './.data', PORT: '8787' } });
 * console.log(server.url);
 * await server.stop();
 */
export async function startServer(options: StartServerOptions = {}): Promise<RunningServer> {
  const config = loadConfig(options.env ?? process.env);
  // WEBHOOK_EVENTS names event types the config module does not know of (they belong to src/webhooks).
  const environmentFilter = checkEventFilter(config.webhooks?.events);
  if (environmentFilter.problems.length > 0) {
    throw new ConfigError(environmentFilter.problems.map((problem) => `WEBHOOK_EVENTS: ${problem}`));
  }
  const logger =
    options.logger === 'silent'
      ? pino({ level: 'silent' })
      : (options.logger ?? pino({ level: config.logLevel, base: { service: 'notetaker-stream' } }));
  // Everything this process (and the ffmpeg it starts) writes is private to its user: database, sources, segments.
  usePrivateUmask();
  if (!(await ensurePrivateDir(config.dataDir))) {
    logger.warn(
      { dataDir: config.dataDir },
      'DATA_DIR belongs to another user and could not be made private (0700)',
    );
  }
  const secrets = await resolveSecrets(config);
  const mintToken = (sub: string, ttlSeconds: number, watch?: readonly string[]) =>
    mintUserToken({
      secret: secrets.jwtSecret,
      sub,
      ttlSeconds,
      watch,
      issuer: config.auth.issuer,
      audience: config.auth.audience,
    });
  // A worker's ffmpeg and ffprobe are started by a helper process started now, while this one is small: spawning
  // forks the spawner, and forking the grown server (PGlite's heap) would block every request for each spawn.
  // It is this server's one owner of media processes: made here, handed to every job kind that runs ffmpeg.
  const launcher = config.worker.enabled ? createProcessLauncher() : undefined;
  launcher?.prepare();
  const releaseLauncher = async () => launcher?.close();
  const database = await createDatabase(config.database, {
    timeoutSeconds: config.databaseTimeoutSeconds,
  }).catch(async (error: unknown) => {
    await releaseLauncher();
    throw error;
  });
  // Run in order: the launcher goes last, after the worker has stopped its processes.
  const cleanups: Array<() => Promise<unknown>> = [() => database.close(), releaseLauncher];
  try {
    await database.migrate();
    let baseUrl = config.publicUrl ?? '';
    const storage = await createStorage(config, {
      storageSecret: secrets.storageSecret,
      publicBaseUrl: () => baseUrl,
    });
    cleanups.unshift(() => storage.close());
    // The embedded storage folder exists from the start, so a fresh server is ready before its first upload.
    if (config.storage.kind === 'local') await mkdir(config.storage.root, { recursive: true });

    const metrics = createMetrics({ generationQueue: () => countGeneratingVideos(database.db) });
    // Set once the API is built; the worker wakes its held `/stream` answers through it.
    let streams: StreamService | undefined;
    let worker: JobRunner | undefined;
    // Every change a host app may hear of is queued through this, in the change's own transaction.
    const webhookEvents = createWebhookEvents({
      environment: config.webhooks ? { events: environmentFilter.events } : undefined,
      onQueued: () => worker?.notify('webhooks'),
    });
    if (config.webhookSignatureFormat !== 'standard') {
      logger.warn(
        { format: config.webhookSignatureFormat },
        'WEBHOOK_SIGNATURE_FORMAT: the Notetaker-Signature header is deprecated and goes away in the next release; ' +
          'verify the Standard Webhooks headers (webhook-id, webhook-timestamp, webhook-signature) instead',
      );
    }
    if (launcher) {
      // One temp folder per process, named so a later sweep can tell whether its owner is still alive.
      const tempRoot = processTempRoot(config.dataDir);
      // Every media process of this worker counts against one bound; first views go first (decision 0014).
      const budget = createProcessBudget(launcher, {
        maxProcesses: config.media.maxProcesses,
        maxTranscodes: config.media.maxTranscodes,
      });
      budget.onRelease(() => worker?.notify('generation'));
      const generation = createGenerationJobs({
        db: database.db,
        storage,
        config,
        tempRoot,
        launcher: budget,
        hasRoom: () => budget.hasRoom(),
        metrics,
        events: webhookEvents,
        onVideoChanged: (videoId) => streams?.videoChanged(videoId),
      });
      const tasks = createVideoTaskJobs({
        db: database.db,
        storage,
        config,
        tempRoot,
        launcher: budget,
        metrics,
        events: webhookEvents,
      });
      // Always running: endpoints may be registered at any time through the management API.
      const webhooks = createWebhookDeliveryJobs({
        db: database.db,
        environment: config.webhooks,
        signatureFormat: config.webhookSignatureFormat,
        maxAttempts: config.webhookMaxAttempts,
        onDelivered: (event, ok) =>
          metrics.webhookDeliveries.inc({ event, outcome: ok ? 'delivered' : 'abandoned' }),
      });
      // Separate slots per source, so a first view never waits behind a rendition of another video.
      worker = createJobRunner({
        workerId: `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
        logger: logger.child({ component: 'worker' }),
        pollMs: config.worker.pollMs,
        isUnavailable: isDatabaseUnavailable,
        sources: {
          generation: generation.source,
          tasks: tasks.source,
          webhooks: webhooks.source,
        },
        handlers: {
          generation: generation.handler,
          ...tasks.handlers,
          webhook: webhooks.handler,
        },
      });
    }

    const registry = createVideoRegistry({
      db: database.db,
      storage,
      uploadUrlTtlSeconds: config.uploadUrlTtlSeconds,
      multipartThresholdBytes: config.multipartThresholdBytes,
      multipartPartBytes: config.multipartPartBytes,
      maxUploadBytes: config.maxUploadBytes,
      events: webhookEvents,
      onSourceReady: config.pregenerate
        ? async (video) => {
            const started = await startHlsGeneration(database.db, video.id, { from: ['none'] });
            if (started) worker?.notify('generation');
            return started ?? video;
          }
        : undefined,
    });

    // A local upload URL stops working once its video's upload is complete or the video is deleted.
    if ('setUploadGuard' in storage) storage.setUploadGuard((key) => registry.acceptsUpload(key));

    let app: Hono | undefined;
    if (options.api !== false) {
      if (config.devLogin && !isLoopbackHost(config.host)) {
        logger.warn(
          { host: config.host },
          `DEV_LOGIN is on while listening on ${config.host}: ANYONE WHO CAN REACH THIS PORT CAN SIGN IN AS ANY ` +
            'USER and read, upload and delete every video. Set DEV_LOGIN=false (or HOST=127.0.0.1) unless this ' +
            'network is yours alone.',
        );
      }
      const playbackTokens = createPlaybackTokens(secrets.playbackSecret);
      streams = createStreamService({
        db: database.db,
        playbackTokens,
        publicUrl: () => baseUrl,
        playbackTtlSeconds: config.presignTtlSeconds,
        retryAfterSeconds: config.streamRetryAfterSeconds,
        // Beyond the workers' bound a first view waits on its row: its viewer is told for how long (decision 0014).
        queuedRetryAfter: (video) =>
          backlogRetryAfter(database.db, video, {
            slots: config.worker.concurrency,
            retryAfterSeconds: config.streamRetryAfterSeconds,
          }),
        onGenerationQueued: () => worker?.notify('generation'),
        dataVersion: database.writeCount,
      });
      app = createApp({
        db: database.db,
        storage,
        userTokens: createUserTokenVerifier({
          secret: config.auth.jwksUrl ? undefined : secrets.jwtSecret,
          jwksUrl: config.auth.jwksUrl,
          issuer: config.auth.issuer,
          audience: config.auth.audience,
          clockToleranceSeconds: config.auth.clockToleranceSeconds,
        }),
        playbackTokens,
        serviceApiKey: secrets.serviceApiKey,
        streams,
        registry,
        events: webhookEvents,
        userTokenMinter: config.auth.jwksUrl
          ? undefined
          : async ({ sub, watch, ttlSeconds }) => {
              const now = new Date(Math.floor(Date.now() / 1000) * 1000);
              const token = await mintUserToken({
                secret: secrets.jwtSecret,
                sub,
                watch,
                ttlSeconds,
                issuer: config.auth.issuer,
                audience: config.auth.audience,
                now,
              });
              return { token, expiresAt: new Date(now.getTime() + ttlSeconds * 1000) };
            },
        userUploads: config.userUploads,
        devTokens: config.devLogin
          ? {
              mintUserToken: mintToken,
              publicUrl: config.publicUrl,
            }
          : undefined,
        webApp: config.webApp
          ? {
              webDir: config.webDir ?? defaultWebDir(),
              devLogin: config.devLogin,
              userUploads: config.userUploads,
            }
          : undefined,
        logger: logger.child({ component: 'http' }),
        corsOrigins: config.corsOrigins,
        maxJsonBodyBytes: config.maxJsonBodyBytes,
        rateLimits: config.rateLimits,
        trustProxy: config.trustProxy,
        presignTtlSeconds: config.presignTtlSeconds,
        presignWindowSeconds: config.presignWindowSeconds,
        segmentCdnUrl: config.segmentCdnUrl,
        readiness: {
          database: () => database.ping(),
          storage: () => storage.ping(),
          // The data folder (embedded database, local objects, generation's temp files) has room left.
          ...(config.minFreeDiskBytes > 0
            ? {
                disk: async () => {
                  const disk = await diskStatus(config.dataDir, config.minFreeDiskBytes);
                  if (disk.low) throw new Error(disk.description);
                },
              }
            : {}),
        },
        metrics: config.metricsEnabled ? metrics : undefined,
      });
      const server = await listen(app, config.host, config.port, config.uploadIdleTimeoutSeconds * 1000);
      cleanups.unshift(() => closeServer(server));
      const address = server.address() as AddressInfo;
      const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
      baseUrl = config.publicUrl ?? `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
    }

    if (worker) {
      void removeOrphanedTempDirs(tempParent(config.dataDir), logger.child({ component: 'worker' }));
      worker.start();
      const running = worker;
      cleanups.unshift(() => running.stop());
    }
    if (worker && config.cleanupIntervalSeconds > 0) {
      const log = logger.child({ component: 'cleanup' });
      const cleanup = () => {
        removeOrphanedHls({ db: database.db, storage, logger: log })
          .then(() => removeOrphanedSources({ db: database.db, storage, logger: log }))
          .then(() => removeOrphanedTempDirs(tempParent(config.dataDir), log))
          .catch((error: unknown) => log.warn({ err: error }, 'cleanup failed'));
      };
      const first = setTimeout(cleanup, Math.min(30_000, config.cleanupIntervalSeconds * 1000));
      const every = setInterval(cleanup, config.cleanupIntervalSeconds * 1000);
      first.unref();
      every.unref();
      cleanups.unshift(async () => {
        clearTimeout(first);
        clearInterval(every);
      });
    }
    logger.info(
      { url: baseUrl || undefined, worker: Boolean(worker), database: database.kind, storage: storage.kind },
      'started',
    );

    let stopped: Promise<void> | undefined;
    return {
      get url() {
        return baseUrl;
      },
      config,
      app,
      database,
      storage,
      registry,
      worker,
      serviceApiKey: secrets.serviceApiKey,
      mintUserToken: (sub, ttlSeconds = 3600, watch) => mintToken(sub, ttlSeconds, watch),
      async importVideo(filePath, { ownerId, title }) {
        const { video } = await registry.register({
          ownerId,
          title,
          contentType: 'video/mp4',
          sizeBytes: (await stat(filePath)).size,
        });
        await storage.putFile(video.source_key, filePath, { contentType: 'video/mp4' });
        // An operator's own file: generation's full probe judges it (the fail-fast check is for uploads).
        await registry.completeUpload(video.id, undefined, { checkContainer: false });
        return { id: video.id };
      },
      stop() {
        stopped ??= (async () => {
          for (const cleanup of cleanups) {
            await cleanup().catch((error: unknown) => logger.error({ err: error }, 'shutdown step failed'));
          }
          logger.info('stopped');
        })();
        return stopped;
      },
    };
  } catch (error) {
    for (const cleanup of cleanups) await cleanup().catch(() => {});
    throw error;
  }
}

async function resolveSecrets(config: Config): Promise<Secrets> {
  return loadOrCreateSecrets(config.dataDir, {
    jwtSecret: config.auth.jwtSecret,
    serviceApiKey: config.auth.serviceApiKey,
    playbackSecret: config.auth.playbackSecret,
  });
}

function listen(app: Hono, hostname: string, port: number, idleTimeoutMs: number): Promise<ServerType> {
  return new Promise((resolve, reject) => {
    // No limit on a whole request (Node's default cuts any request after 300 s, a slow upload included):
    // a request body that sends nothing for `idleTimeoutMs` is cut instead.
    const server = serve({ fetch: app.fetch, hostname, port, serverOptions: { requestTimeout: 0 } }, () =>
      resolve(server),
    );
    cutIdleRequestBodies(server as Server, idleTimeoutMs);
    server.once('error', reject);
  });
}

/**
 * While a request's body is arriving, its socket may stay silent for at most `idleMs`; then it is destroyed.
 * Responses are not timed (a held `/stream` answer or a paused download stays open).
 */
function cutIdleRequestBodies(server: Server, idleMs: number): void {
  const watched = new WeakSet<Socket>();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const hasBody =
      req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
    if (!hasBody || req.complete) return;
    const socket = req.socket;
    if (!watched.has(socket)) {
      watched.add(socket);
      socket.on('timeout', () => socket.destroy());
    }
    socket.setTimeout(idleMs);
    const stop = () => socket.setTimeout(0);
    req.once('end', stop);
    req.once('close', stop);
    res.once('close', stop);
  });
}

function closeServer(server: ServerType): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    // Idle keep-alive sockets would hold close() open; in-flight requests get a moment to finish.
    (server as { closeIdleConnections?: () => void }).closeIdleConnections?.();
    setTimeout(() => (server as { closeAllConnections?: () => void }).closeAllConnections?.(), 5000).unref();
  });
}
