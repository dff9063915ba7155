import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import pg from 'pg';
import type { Logger } from 'pino';
import { inject } from 'vitest';

import { startServer, type RunningServer } from '../../src/server/start-server.js';
import { startTestS3, type TestS3 } from './s3.js';

export const TEST_DATABASE_URL =
  process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A fresh, empty database on the test PostgreSQL server, dropped by `drop()`. */
export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `notetaker_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    },
  };
}

export type Variant = 'embedded' | 'postgres-s3';
export const VARIANTS: Variant[] = ['embedded', 'postgres-s3'];

export interface TestServer extends RunningServer {
  dataDir: string;
  /** The S3-protocol test server (postgres-s3 variant), e.g. to inject faults. */
  s3: TestS3 | undefined;
  /** Stops the server and removes everything it made (data folder, database, S3 server). */
  close(): Promise<void>;
}

/**
 * Starts a real server for a test: `embedded` = PGlite + local signed storage (the defaults);
 * `postgres-s3` = the local PostgreSQL + an S3-protocol server behind a SigV4-verifying proxy.
 */
export async function startTestServer(
  variant: Variant,
  env: Record<string, string> = {},
  options: { logger?: Logger } = {},
): Promise<TestServer> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'notetaker-test-'));
  const cleanups: Array<() => Promise<unknown>> = [() => fs.rm(dataDir, { recursive: true, force: true })];
  const fullEnv: Record<string, string> = {
    DATA_DIR: dataDir,
    PORT: '0',
    LOG_LEVEL: 'silent',
    WORKER_POLL_MS: '200',
    ...env,
  };
  let s3: TestS3 | undefined;
  try {
    if (variant === 'embedded' && !fullEnv['DATABASE_URL']) await seedEmbeddedDatabase(dataDir);
    if (variant === 'postgres-s3') {
      const database = await createTestDatabase();
      cleanups.unshift(() => database.drop());
      const started = await startTestS3();
      s3 = started;
      cleanups.unshift(() => started.stop());
      Object.assign(fullEnv, {
        DATABASE_URL: database.url,
        S3_BUCKET: started.bucket,
        S3_ENDPOINT: started.endpoint,
        S3_REGION: started.region,
        S3_ACCESS_KEY_ID: started.accessKeyId,
        S3_SECRET_ACCESS_KEY: started.secretAccessKey,
        S3_FORCE_PATH_STYLE: 'true',
        ...env,
      });
    }
    const server = await startServer({ env: fullEnv, logger: options.logger ?? 'silent' });
    cleanups.unshift(() => server.stop());
    return Object.assign(Object.create(server) as RunningServer, {
      dataDir,
      s3,
      async close() {
        for (const cleanup of cleanups) await cleanup().catch(() => {});
      },
    }) as TestServer;
  } catch (error) {
    for (const cleanup of cleanups) await cleanup().catch(() => {});
    throw error;
  }
}

/**
 * Seeds `<dataDir>/pglite` with the migrated template made by the global setup, so an embedded server starts in a
 * second or two instead of running initdb.
 */
export async function seedEmbeddedDatabase(dataDir: string): Promise<void> {
  await fs.cp(inject('pgliteTemplate'), path.join(dataDir, 'pglite'), { recursive: true });
}

/** `fetch` against the server with a bearer token. */
export function api(server: { url: string }, token?: string) {
  return async (route: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    if (token) headers.set('authorization', `Bearer ${token}`);
    if (init.body && !headers.has('content-type')) headers.set('content-type', 'application/json');
    return fetch(`${server.url}${route}`, { ...init, headers });
  };
}

/** Polls `/stream` until it leaves `generating` (honouring `retry_after` loosely, capped for test speed). */
export async function waitForStream(
  call: ReturnType<typeof api>,
  videoId: string,
  timeoutMs = 60_000,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await call(`/api/videos/${videoId}/stream`);
    const body = (await response.json()) as Record<string, unknown>;
    if (response.status !== 202) return { status: response.status, body };
    if (Date.now() > deadline) throw new Error(`still generating after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Polls `/stream` until the ready answer satisfies `until` (e.g. carries `poster_url`, made by a task after `ready`).
 */
export async function waitForReadyWith(
  call: ReturnType<typeof api>,
  videoId: string,
  until: (body: Record<string, unknown>) => boolean,
  timeoutMs = 60_000,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { status, body } = await waitForStream(call, videoId, timeoutMs);
    if (status !== 200) throw new Error(`/stream answered ${status}: ${JSON.stringify(body)}`);
    if (until(body)) return body;
    if (Date.now() > deadline) throw new Error(`ready, but not as expected after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
