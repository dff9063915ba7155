import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';

import { MAX_PRESIGN_SECONDS } from './presign-limit.js';

const booleanString = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

const optionalString = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .optional();

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

const envSchema = z.object({
  HOST: z.string().trim().min(1).default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8787),
  PUBLIC_URL: optionalString.pipe(z.url().optional()),
  DATA_DIR: z.string().trim().min(1).default('./.data'),
  DATABASE_URL: optionalString,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  S3_BUCKET: optionalString,
  S3_ENDPOINT: optionalString.pipe(z.url().optional()),
  S3_REGION: z.string().trim().min(1).default('us-east-1'),
  S3_ACCESS_KEY_ID: optionalString,
  S3_SECRET_ACCESS_KEY: optionalString,
  S3_FORCE_PATH_STYLE: booleanString.default(false),

  AUTH_JWT_SECRET: optionalString,
  AUTH_JWKS_URL: optionalString.pipe(z.url().optional()),
  AUTH_ISSUER: optionalString,
  AUTH_AUDIENCE: optionalString,
  AUTH_CLOCK_TOLERANCE_SECONDS: z.coerce.number().int().min(0).max(300).default(30),
  SERVICE_API_KEY: optionalString,
  PLAYBACK_SECRET: optionalString,

  PRESIGN_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_PRESIGN_SECONDS)
    .default(6 * 60 * 60),
  UPLOAD_URL_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(60)
    .max(MAX_PRESIGN_SECONDS)
    .default(60 * 60),
  PRESIGN_WINDOW_SECONDS: z.coerce
    .number()
    .int()
    .min(0)
    .max(24 * 60 * 60)
    .default(60 * 60),
  SEGMENT_CDN_URL: optionalString.pipe(z.url().optional()),
  MULTIPART_THRESHOLD_BYTES: positiveInt(64 * 1024 * 1024),
  MULTIPART_PART_BYTES: z.coerce
    .number()
    .int()
    .min(5 * 1024 * 1024)
    .default(16 * 1024 * 1024),
  MAX_UPLOAD_BYTES: positiveInt(20 * 1000 ** 3),
  UPLOAD_IDLE_TIMEOUT_SECONDS: z.coerce.number().min(0.1).max(3600).default(60),
  CORS_ORIGINS: optionalString,
  WEB_APP: booleanString.default(true),
  WEB_DIR: optionalString,
  DEV_LOGIN: booleanString.optional(),
  USER_UPLOADS: booleanString.optional(),
  MAX_JSON_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(16 * 1024 * 1024)
    .default(64 * 1024),
  TRUST_PROXY: booleanString.default(false),
  RATE_LIMIT_AUTH_FAILURES: z.coerce.number().int().min(0).default(30),
  RATE_LIMIT_DEV_TOKENS: z.coerce.number().int().min(0).default(30),
  RATE_LIMIT_UPLOAD_REGISTRATIONS: z.coerce.number().int().min(0).default(60),

  FFMPEG_PATH: z.string().trim().min(1).default('ffmpeg'),
  FFPROBE_PATH: z.string().trim().min(1).default('ffprobe'),
  SEGMENT_SECONDS: z.coerce.number().int().min(1).max(30).default(6),
  WORKER: booleanString.default(true),
  // Generations at once; default half of MEDIA_MAX_PROCESSES (a generation runs at most two processes at once).
  WORKER_CONCURRENCY: z.coerce.number().int().positive().optional(),
  MEDIA_MAX_PROCESSES: positiveInt(16),
  MEDIA_MAX_TRANSCODES: positiveInt(Math.max(2, os.availableParallelism() * 2)),
  WORKER_POLL_MS: positiveInt(500),
  WORKER_TASK_CONCURRENCY: z.coerce.number().int().min(0).default(1),
  RENDITIONS: z
    .string()
    .trim()
    .default('720,360')
    .transform((value, ctx) => {
      if (['', 'off', 'none', 'false', '0'].includes(value.toLowerCase())) return [];
      const heights = value.split(',').map((part) => Number(part.trim().replace(/p$/i, '')));
      if (heights.some((h) => !Number.isInteger(h) || h < 144 || h > 4320 || h % 2 !== 0)) {
        ctx.addIssue({
          code: 'custom',
          message: 'a comma-separated list of even heights such as "720,360", or "off"',
        });
        return z.NEVER;
      }
      return [...new Set(heights)].sort((a, b) => b - a);
    }),
  JOB_LEASE_SECONDS: z.coerce.number().int().min(5).max(600).default(30),
  JOB_MAX_ATTEMPTS: positiveInt(5),
  JOB_TIMEOUT_BASE_SECONDS: positiveInt(120),
  JOB_TIMEOUT_PER_MEDIA_SECOND: z.coerce.number().min(0).default(3),
  JOB_TIMEOUT_MAX_SECONDS: positiveInt(4 * 60 * 60),
  MAX_DURATION_SECONDS: positiveInt(6 * 60 * 60),
  MAX_PIXELS: positiveInt(4096 * 2304),
  MIN_FREE_DISK_BYTES: z.coerce
    .number()
    .int()
    .min(0)
    .default(1024 * 1024 * 1024),
  DATABASE_TIMEOUT_SECONDS: z.coerce.number().min(0.1).max(600).default(5),
  EMBEDDED_DB_SHARED_BUFFERS: z
    .string()
    .trim()
    .regex(/^\d+(kB|MB|GB)$/, 'a size such as 16MB')
    .default('16MB'),
  STREAM_RETRY_AFTER_SECONDS: positiveInt(2),
  UPLOAD_CONCURRENCY: positiveInt(4),
  PREGENERATE: booleanString.default(false),
  WEBHOOK_URL: optionalString.pipe(z.url().optional()),
  WEBHOOK_SECRET: optionalString,
  WEBHOOK_MAX_ATTEMPTS: positiveInt(8),
  WEBHOOK_SIGNATURE_FORMAT: z.enum(['standard', 'legacy', 'both']).default('standard'),
  WEBHOOK_EVENTS: z
    .string()
    .trim()
    .default('')
    .transform((value, ctx) => {
      if (value === '' || value === '*' || value.toLowerCase() === 'all') return null;
      const names = value.split(',').map((part) => part.trim());
      if (names.some((name) => !/^video(\.[a-z]+)+$/.test(name))) {
        ctx.addIssue({
          code: 'custom',
          message: 'a comma-separated list of event types such as "video.hls.ready,video.deleted", or "all"',
        });
        return z.NEVER;
      }
      return [...new Set(names)];
    }),
  CLEANUP_INTERVAL_SECONDS: z.coerce.number().int().min(0).default(3600),
  METRICS: booleanString.default(true),
});

/** Rules across variables, checked on the raw strings so they are reported together with field errors. */
function crossFieldProblems(env: Record<string, string | undefined>): string[] {
  const set = (name: string) => (env[name]?.trim() ?? '') !== '';
  const problems: string[] = [];
  if (set('AUTH_JWT_SECRET') && set('AUTH_JWKS_URL')) {
    problems.push('AUTH_JWKS_URL: set AUTH_JWT_SECRET or AUTH_JWKS_URL, not both');
  }
  if (set('AUTH_JWT_SECRET') && env['AUTH_JWT_SECRET']!.trim().length < 32) {
    problems.push('AUTH_JWT_SECRET: must be at least 32 characters');
  }
  if (set('SERVICE_API_KEY') && env['SERVICE_API_KEY']!.trim().length < 24) {
    problems.push('SERVICE_API_KEY: must be at least 24 characters');
  }
  if (set('AUTH_JWKS_URL') && ['true', '1', 'yes'].includes(env['DEV_LOGIN']?.trim() ?? '')) {
    problems.push('DEV_LOGIN: cannot mint user tokens when they are verified against AUTH_JWKS_URL');
  }
  if (set('S3_BUCKET') && set('S3_ACCESS_KEY_ID') !== set('S3_SECRET_ACCESS_KEY')) {
    problems.push('S3_SECRET_ACCESS_KEY: S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY go together');
  }
  if (set('WEBHOOK_URL') !== set('WEBHOOK_SECRET')) {
    problems.push('WEBHOOK_SECRET: WEBHOOK_URL and WEBHOOK_SECRET go together');
  }
  if (set('WEBHOOK_SECRET') && env['WEBHOOK_SECRET']!.trim().length < 16) {
    problems.push('WEBHOOK_SECRET: must be at least 16 characters');
  }
  const webhookSecret = env['WEBHOOK_SECRET']?.trim() ?? '';
  if (webhookSecret.startsWith('whsec_')) {
    const key = webhookSecret.slice('whsec_'.length);
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(key) || Buffer.from(key, 'base64').length < 16) {
      problems.push('WEBHOOK_SECRET: a whsec_ secret is whsec_ and the base64 of at least 16 bytes');
    }
  }
  if (!set('S3_BUCKET') && (set('S3_ENDPOINT') || set('S3_ACCESS_KEY_ID'))) {
    problems.push('S3_BUCKET: required when other S3_* settings are given');
  }
  return problems;
}

export type DatabaseConfig =
  | { kind: 'postgres'; url: string }
  | {
      kind: 'pglite';
      dataDir: string;
      /** PGlite's `shared_buffers` (`EMBEDDED_DB_SHARED_BUFFERS`); PostgreSQL's own default (128MB) when absent. */
      sharedBuffers?: string | undefined;
    };

export type StorageConfig =
  | { kind: 'local'; root: string }
  | {
      kind: 's3';
      bucket: string;
      endpoint?: string | undefined;
      region: string;
      accessKeyId?: string | undefined;
      secretAccessKey?: string | undefined;
      forcePathStyle: boolean;
    };

export interface Config {
  readonly host: string;
  readonly port: number;
  /** Base URL clients reach the service at; undefined means "derive from the listening address". */
  readonly publicUrl: string | undefined;
  readonly dataDir: string;
  readonly logLevel: string;
  readonly database: DatabaseConfig;
  readonly storage: StorageConfig;
  readonly auth: {
    /** HS256 shared secret; undefined in embedded mode until the data folder provides one. */
    readonly jwtSecret: string | undefined;
    readonly jwksUrl: string | undefined;
    readonly issuer: string | undefined;
    readonly audience: string | undefined;
    readonly clockToleranceSeconds: number;
    readonly serviceApiKey: string | undefined;
    readonly playbackSecret: string | undefined;
  };
  readonly presignTtlSeconds: number;
  /**
   * Segment, sprite and poster URLs are signed once per window of this many seconds, aligned to the clock, so all
   * viewers of a window get the same URLs (`PRESIGN_WINDOW_SECONDS`; 0 signs per request). See decision 0016.
   */
  readonly presignWindowSeconds: number;
  /** Origin (and path) of a CDN in front of the storage: handed-out object URLs point there (`SEGMENT_CDN_URL`). */
  readonly segmentCdnUrl: string | undefined;
  readonly uploadUrlTtlSeconds: number;
  readonly multipartThresholdBytes: number;
  readonly multipartPartBytes: number;
  /** Largest source a registration, upload or import may have (`MAX_UPLOAD_BYTES`). */
  readonly maxUploadBytes: number;
  /**
   * A request whose body sends no byte for this long is cut (`UPLOAD_IDLE_TIMEOUT_SECONDS`); there is no limit on
   * a whole request's duration, so a slow upload runs as long as it keeps sending.
   */
  readonly uploadIdleTimeoutSeconds: number;
  /**
   * Origins the API answers CORS for (`CORS_ORIGINS`): `*`, or exact origins where `http://localhost:*` stands for
   * any port. Default `*`, but only this machine's pages (`http://localhost:*`, `http://127.0.0.1:*`,
   * `http://[::1]:*`) while `DEV_LOGIN` is on.
   */
  readonly corsOrigins: '*' | readonly string[];
  /** Serve the web page at `/` (`WEB_APP`). */
  readonly webApp: boolean;
  /**
   * Folder of the built web page (`WEB_DIR`: `index.html` and `assets/`, what `apps/web` builds); unset = the
   * server package's `dist/web` when present, else the repository's `apps/web/dist`.
   */
  readonly webDir: string | undefined;
  /**
   * `POST /api/dev/token` mints a user token for any user name (`DEV_LOGIN`; on by default only in embedded mode
   * with a loopback `HOST`).
   */
  readonly devLogin: boolean;
  /** Largest JSON request body, in bytes (`MAX_JSON_BODY_BYTES`); larger ones are 413 before they are read. */
  readonly maxJsonBodyBytes: number;
  /** Take the client's address from the last `X-Forwarded-For` entry (`TRUST_PROXY`), not the socket. */
  readonly trustProxy: boolean;
  /** Per client address and minute, in this process; 0 disables a limit. */
  readonly rateLimits: {
    /** Requests answered 401 (`RATE_LIMIT_AUTH_FAILURES`); past it every API request is 429 until the minute ends. */
    readonly authFailures: number;
    /** `POST /api/dev/token` (`RATE_LIMIT_DEV_TOKENS`). */
    readonly devTokens: number;
    /** `POST /api/videos` upload registrations (`RATE_LIMIT_UPLOAD_REGISTRATIONS`). */
    readonly uploadRegistrations: number;
  };
  /** Users may register, upload and delete their own videos (`USER_UPLOADS`; on in embedded mode only). */
  readonly userUploads: boolean;
  readonly media: {
    readonly ffmpegPath: string;
    readonly ffprobePath: string;
    readonly segmentSeconds: number;
    readonly uploadConcurrency: number;
    /**
     * Heights of the lower renditions made after a video is ready (`RENDITIONS`, highest first); only those below
     * the source's height are made. Empty: no ladder, the source rendition alone.
     */
    readonly renditionHeights: readonly number[];
    /** ffmpeg and ffprobe processes a worker runs at once (`MEDIA_MAX_PROCESSES`); launches beyond it wait. */
    readonly maxProcesses: number;
    /** Of those, encodes at once (`MEDIA_MAX_TRANSCODES`): the CPU- and memory-heavy ones. */
    readonly maxTranscodes: number;
  };
  readonly worker: {
    readonly enabled: boolean;
    readonly concurrency: number;
    /** Slots for after-ready tasks (posters, storyboards, renditions), apart from generation slots; 0 runs none. */
    readonly taskConcurrency: number;
    readonly pollMs: number;
    readonly leaseSeconds: number;
    readonly maxAttempts: number;
    readonly timeoutBaseSeconds: number;
    readonly timeoutPerMediaSecond: number;
    /** Upper bound of any single ffmpeg run's wall-clock limit (`JOB_TIMEOUT_MAX_SECONDS`), in seconds. */
    readonly timeoutMaxSeconds: number;
  };
  /** Refuse sources longer than this (`MAX_DURATION_SECONDS`) and pictures larger than this (`MAX_PIXELS`). */
  readonly limits: { readonly maxDurationSeconds: number; readonly maxPixels: number };
  /**
   * Free bytes the data folder must keep (`MIN_FREE_DISK_BYTES`): generation waits (retried) below it, and
   * `/readyz` reports the disk as not ready. 0 turns the check off.
   */
  readonly minFreeDiskBytes: number;
  /**
   * Seconds a database connection attempt or query may take (`DATABASE_TIMEOUT_SECONDS`) before it is an error
   * (the API answers 503): a network partition must not hang requests.
   */
  readonly databaseTimeoutSeconds: number;
  readonly streamRetryAfterSeconds: number;
  /** Generate HLS as soon as a source is uploaded or imported, instead of on first view. */
  readonly pregenerate: boolean;
  /** The environment's webhook endpoint (`WEBHOOK_URL`, `WEBHOOK_SECRET`), besides those the management API registers. */
  readonly webhooks:
    | {
        readonly url: string;
        readonly secret: string;
        /** The event types it receives (`WEBHOOK_EVENTS`); `null` for every one. Checked against the catalogue at start. */
        readonly events: readonly string[] | null;
      }
    | undefined;
  /** Retries of every webhook delivery, registered endpoints' too (`WEBHOOK_MAX_ATTEMPTS`). */
  readonly webhookMaxAttempts: number;
  /**
   * Signature headers of every delivery (`WEBHOOK_SIGNATURE_FORMAT`): `standard` (Standard Webhooks), `legacy`
   * (`Notetaker-Signature`, deprecated) or `both`.
   */
  readonly webhookSignatureFormat: 'standard' | 'legacy' | 'both';
  /** Seconds between cleanup runs (orphaned HLS objects, dead workers' temp folders); 0 disables. */
  readonly cleanupIntervalSeconds: number;
  readonly metricsEnabled: boolean;
}

/** Thrown when the environment does not describe a runnable service; lists every problem at once. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/**
 * Parses the environment once into a frozen config. Only the CLI and `startServer` call this with `process.env`.
 *
 * @example
 * const config = loadConfig({ DATA_DIR: '/var/lib/notetaker', PORT: '8080' });
 */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const parsed = envSchema.safeParse(env);
  const problems = [
    ...(parsed.success
      ? []
      : parsed.error.issues.map((i) => `${i.path.join('.') || 'environment'}: ${i.message}`)),
    ...crossFieldProblems(env),
  ];
  if (parsed.success) problems.push(...generationSlotProblems(parsed.data));
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  const e = parsed.data;
  const dataDir = path.resolve(e.DATA_DIR);
  // Embedded mode: no user-token settings, so the server signs (and verifies) tokens with its own secret.
  const embeddedAuth = e.AUTH_JWT_SECRET === undefined && e.AUTH_JWKS_URL === undefined;
  // Anyone who reaches the port can sign in as anyone: on by default only when no one else can reach it.
  const devLogin = e.DEV_LOGIN ?? (embeddedAuth && isLoopbackHost(e.HOST));
  const config: Config = {
    host: e.HOST,
    port: e.PORT,
    publicUrl: e.PUBLIC_URL?.replace(/\/+$/, ''),
    dataDir,
    logLevel: e.LOG_LEVEL,
    database: e.DATABASE_URL
      ? { kind: 'postgres', url: e.DATABASE_URL }
      : {
          kind: 'pglite',
          dataDir: path.join(dataDir, 'pglite'),
          sharedBuffers: e.EMBEDDED_DB_SHARED_BUFFERS,
        },
    storage: e.S3_BUCKET
      ? {
          kind: 's3',
          bucket: e.S3_BUCKET,
          endpoint: e.S3_ENDPOINT,
          region: e.S3_REGION,
          accessKeyId: e.S3_ACCESS_KEY_ID,
          secretAccessKey: e.S3_SECRET_ACCESS_KEY,
          forcePathStyle: e.S3_FORCE_PATH_STYLE,
        }
      : { kind: 'local', root: path.join(dataDir, 'objects') },
    auth: {
      jwtSecret: e.AUTH_JWT_SECRET,
      jwksUrl: e.AUTH_JWKS_URL,
      issuer: e.AUTH_ISSUER,
      audience: e.AUTH_AUDIENCE,
      clockToleranceSeconds: e.AUTH_CLOCK_TOLERANCE_SECONDS,
      serviceApiKey: e.SERVICE_API_KEY,
      playbackSecret: e.PLAYBACK_SECRET,
    },
    presignTtlSeconds: e.PRESIGN_TTL_SECONDS,
    presignWindowSeconds: e.PRESIGN_WINDOW_SECONDS,
    segmentCdnUrl: e.SEGMENT_CDN_URL?.replace(/\/+$/, ''),
    uploadUrlTtlSeconds: e.UPLOAD_URL_TTL_SECONDS,
    multipartThresholdBytes: e.MULTIPART_THRESHOLD_BYTES,
    multipartPartBytes: e.MULTIPART_PART_BYTES,
    maxUploadBytes: e.MAX_UPLOAD_BYTES,
    uploadIdleTimeoutSeconds: e.UPLOAD_IDLE_TIMEOUT_SECONDS,
    corsOrigins:
      e.CORS_ORIGINS === undefined
        ? devLogin
          ? LOOPBACK_ORIGINS
          : '*'
        : e.CORS_ORIGINS === '*'
          ? '*'
          : Object.freeze(
              e.CORS_ORIGINS.split(',')
                .map((origin) => origin.trim())
                .filter(Boolean),
            ),
    webApp: e.WEB_APP,
    webDir: e.WEB_DIR === undefined ? undefined : path.resolve(e.WEB_DIR),
    devLogin,
    maxJsonBodyBytes: e.MAX_JSON_BODY_BYTES,
    trustProxy: e.TRUST_PROXY,
    rateLimits: {
      authFailures: e.RATE_LIMIT_AUTH_FAILURES,
      devTokens: e.RATE_LIMIT_DEV_TOKENS,
      uploadRegistrations: e.RATE_LIMIT_UPLOAD_REGISTRATIONS,
    },
    userUploads: e.USER_UPLOADS ?? embeddedAuth,
    media: {
      ffmpegPath: e.FFMPEG_PATH,
      ffprobePath: e.FFPROBE_PATH,
      segmentSeconds: e.SEGMENT_SECONDS,
      uploadConcurrency: e.UPLOAD_CONCURRENCY,
      renditionHeights: e.RENDITIONS,
      maxProcesses: e.MEDIA_MAX_PROCESSES,
      maxTranscodes: e.MEDIA_MAX_TRANSCODES,
    },
    worker: {
      enabled: e.WORKER,
      concurrency: e.WORKER_CONCURRENCY ?? Math.max(1, Math.floor(e.MEDIA_MAX_PROCESSES / 2)),
      taskConcurrency: e.WORKER_TASK_CONCURRENCY,
      pollMs: e.WORKER_POLL_MS,
      leaseSeconds: e.JOB_LEASE_SECONDS,
      maxAttempts: e.JOB_MAX_ATTEMPTS,
      timeoutBaseSeconds: e.JOB_TIMEOUT_BASE_SECONDS,
      timeoutPerMediaSecond: e.JOB_TIMEOUT_PER_MEDIA_SECOND,
      timeoutMaxSeconds: e.JOB_TIMEOUT_MAX_SECONDS,
    },
    limits: { maxDurationSeconds: e.MAX_DURATION_SECONDS, maxPixels: e.MAX_PIXELS },
    minFreeDiskBytes: e.MIN_FREE_DISK_BYTES,
    databaseTimeoutSeconds: e.DATABASE_TIMEOUT_SECONDS,
    streamRetryAfterSeconds: e.STREAM_RETRY_AFTER_SECONDS,
    pregenerate: e.PREGENERATE,
    webhooks:
      e.WEBHOOK_URL && e.WEBHOOK_SECRET
        ? { url: e.WEBHOOK_URL, secret: e.WEBHOOK_SECRET, events: e.WEBHOOK_EVENTS }
        : undefined,
    webhookMaxAttempts: e.WEBHOOK_MAX_ATTEMPTS,
    webhookSignatureFormat: e.WEBHOOK_SIGNATURE_FORMAT,
    cleanupIntervalSeconds: e.CLEANUP_INTERVAL_SECONDS,
    metricsEnabled: e.METRICS,
  };
  return deepFreeze(config);
}

/** The CORS default while `DEV_LOGIN` is on: pages served from this machine only, on any port. */
const LOOPBACK_ORIGINS: readonly string[] = Object.freeze([
  'http://localhost:*',
  'http://127.0.0.1:*',
  'http://[::1]:*',
]);

/** `localhost`, `::1` or an address in 127.0.0.0/8: only this machine can connect. */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice('::ffff:'.length) : h;
  const parts = v4.split('.');
  return (
    parts.length === 4 &&
    parts[0] === '127' &&
    parts.every((part) => /^\d{1,3}$/.test(part) && Number(part) <= 255)
  );
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/**
 * A generation holds at most one process while it waits for a second (its ffmpeg and a probe), so generations at
 * once must stay within half of the process bound: otherwise every process could be held by one waiting for another.
 */
function generationSlotProblems(e: {
  WORKER_CONCURRENCY?: number | undefined;
  MEDIA_MAX_PROCESSES: number;
}): string[] {
  if (e.WORKER_CONCURRENCY === undefined || e.WORKER_CONCURRENCY * 2 <= e.MEDIA_MAX_PROCESSES) return [];
  return [
    `WORKER_CONCURRENCY: ${e.WORKER_CONCURRENCY} generations need up to ${e.WORKER_CONCURRENCY * 2} processes at ` +
      `once; raise MEDIA_MAX_PROCESSES (now ${e.MEDIA_MAX_PROCESSES}) or lower WORKER_CONCURRENCY`,
  ];
}
