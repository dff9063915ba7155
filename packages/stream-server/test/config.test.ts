import { describe, expect, it } from 'vitest';

import { ConfigError, loadConfig } from '../src/config/load-config.js';
import { startServer } from '../src/server/start-server.js';

describe('loadConfig', () => {
  it('runs on embedded defaults with an empty environment', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 8787,
      database: { kind: 'pglite' },
      storage: { kind: 'local' },
      // The local sign-in is on: only this machine's pages get CORS.
      corsOrigins: ['http://localhost:*', 'http://127.0.0.1:*', 'http://[::1]:*'],
      devLogin: true,
      maxJsonBodyBytes: 64 * 1024,
      trustProxy: false,
      rateLimits: { authFailures: 30, devTokens: 30, uploadRegistrations: 60 },
      presignTtlSeconds: 21600,
      media: { segmentSeconds: 6 },
    });
    expect(config.dataDir).toMatch(/\.data$/);
    expect(Object.isFrozen(config.media)).toBe(true);
  });

  it('switches to PostgreSQL and S3 when configured', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgres://u@db/x',
      S3_BUCKET: 'media',
      S3_ENDPOINT: 'http://minio:9000',
      S3_ACCESS_KEY_ID: 'k',
      S3_SECRET_ACCESS_KEY: 's',
      S3_FORCE_PATH_STYLE: 'true',
      CORS_ORIGINS: 'https://a.example, https://b.example',
    });
    expect(config.database).toEqual({ kind: 'postgres', url: 'postgres://u@db/x' });
    expect(config.storage).toMatchObject({ kind: 's3', bucket: 'media', forcePathStyle: true });
    expect(config.corsOrigins).toEqual(['https://a.example', 'https://b.example']);
  });

  it("reads the environment's webhook endpoint, its event filter and the signature format", () => {
    expect(loadConfig({})).toMatchObject({
      webhooks: undefined,
      webhookMaxAttempts: 8,
      webhookSignatureFormat: 'standard',
    });
    const config = loadConfig({
      WEBHOOK_URL: 'https://app.example/hooks',
      WEBHOOK_SECRET: 'whsec_' + Buffer.alloc(24, 7).toString('base64'),
      WEBHOOK_EVENTS: 'video.hls.ready, video.deleted,video.hls.ready',
      WEBHOOK_SIGNATURE_FORMAT: 'both',
    });
    expect(config.webhooks).toMatchObject({ events: ['video.hls.ready', 'video.deleted'] });
    expect(config.webhookSignatureFormat).toBe('both');
    expect(
      loadConfig({
        WEBHOOK_URL: 'https://a.example/h',
        WEBHOOK_SECRET: 'x'.repeat(16),
        WEBHOOK_EVENTS: 'all',
      }).webhooks?.events,
    ).toBeNull();
    let error: unknown;
    try {
      loadConfig({
        WEBHOOK_URL: 'https://app.example/hooks',
        WEBHOOK_SECRET: 'whsec_c2hvcnQ=',
        WEBHOOK_EVENTS: 'hls ready',
        WEBHOOK_SIGNATURE_FORMAT: 'svix',
      });
    } catch (e) {
      error = e;
    }
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toMatch(/WEBHOOK_SECRET: a whsec_ secret/);
    expect(problems).toMatch(/WEBHOOK_EVENTS/);
    expect(problems).toMatch(/WEBHOOK_SIGNATURE_FORMAT/);
  });

  it('refuses to start with an event type it does not know in WEBHOOK_EVENTS, naming the known ones', async () => {
    await expect(
      startServer({
        env: {
          WEBHOOK_URL: 'https://app.example/hooks',
          WEBHOOK_SECRET: 'x'.repeat(16),
          WEBHOOK_EVENTS: 'video.hls.ready,video.exploded',
        },
        logger: 'silent',
      }),
    ).rejects.toThrow(/WEBHOOK_EVENTS: unknown event type "video.exploded"; known: video.created/);
  });

  it('lists every problem in one error', () => {
    let error: unknown;
    try {
      loadConfig({
        PORT: 'eighty',
        PRESIGN_TTL_SECONDS: String(8 * 24 * 3600),
        AUTH_JWT_SECRET: 'short',
        S3_ENDPOINT: 'http://minio:9000',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toMatch(/PORT/);
    expect(problems).toMatch(/PRESIGN_TTL_SECONDS/);
    expect(problems).toMatch(/AUTH_JWT_SECRET/);
    expect(problems).toMatch(/S3_BUCKET/);
  });

  it('never allows presigned URLs to outlive S3’s 7-day limit', () => {
    expect(() => loadConfig({ PRESIGN_TTL_SECONDS: '604801' })).toThrow(ConfigError);
    expect(loadConfig({ PRESIGN_TTL_SECONDS: '604800' }).presignTtlSeconds).toBe(604800);
  });

  it('bounds media processes, with generations at most half of the bound (decision 0014)', () => {
    const defaults = loadConfig({});
    expect(defaults.media.maxProcesses).toBe(16);
    expect(defaults.worker.concurrency).toBe(8);
    expect(defaults.media.maxTranscodes).toBeGreaterThanOrEqual(2);
    expect(loadConfig({ MEDIA_MAX_PROCESSES: '6' }).worker.concurrency).toBe(3);
    expect(loadConfig({ MEDIA_MAX_PROCESSES: '6', WORKER_CONCURRENCY: '3' }).worker.concurrency).toBe(3);
    expect(() => loadConfig({ MEDIA_MAX_PROCESSES: '6', WORKER_CONCURRENCY: '4' })).toThrow(
      /WORKER_CONCURRENCY: 4 generations need up to 8 processes/,
    );
  });
});
