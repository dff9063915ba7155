import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { Kysely, Migrator, PostgresDialect, type PostgresPool, type PostgresPoolClient } from 'kysely';
import pg from 'pg';

import type { DatabaseConfig } from '../config/load-config.js';
import { embeddedDatabaseError, isDatabaseUnavailable } from './database-errors.js';
import { migrationProvider } from './migrations/index.js';
import { PGlitePool } from './pglite-pool.js';
import type { DatabaseSchema } from './schema.js';

export type Db = Kysely<DatabaseSchema>;

const execFileAsync = promisify(execFile);

export interface Database {
  readonly kind: DatabaseConfig['kind'];
  readonly db: Db;
  /**
   * Embedded only: how many statements that may have changed data have run in this process, which is every such
   * statement of the database (PGlite has no other client). Unchanged means a row read earlier is still current.
   * `undefined` on PostgreSQL, where other processes write too.
   */
  readonly writeCount: (() => number) | undefined;
  /** Resolves when the database answers a query. */
  ping(): Promise<void>;
  /**
   * Brings the schema up to date (see {@link migrateToLatest}). On PostgreSQL through a connection of its own
   * without the query timeouts, so a long migration, or waiting for another process's, is not cut short.
   */
  migrate(): Promise<string[]>;
  close(): Promise<void>;
}

export interface CreateDatabaseOptions {
  /**
   * PostgreSQL only: seconds a connection attempt or a query may take (`DATABASE_TIMEOUT_SECONDS`), so that a
   * network partition becomes an error within seconds instead of a request that hangs. Statements are also limited
   * on the server (`statement_timeout`). Without it: 10 s to connect, queries unlimited. TCP keep-alive finds dead
   * idle connections either way.
   */
  timeoutSeconds?: number;
}

/**
 * Opens the database the config describes: real PostgreSQL through `pg`, or PGlite (WASM PostgreSQL) under the
 * data folder. Both go through Kysely's own `PostgresDialect`, so everything above this seam is the same code.
 */
export async function createDatabase(
  config: DatabaseConfig,
  options: CreateDatabaseOptions = {},
): Promise<Database> {
  let pool: PostgresPool;
  let writeCount: (() => number) | undefined;
  if (config.kind === 'postgres') {
    const timeoutMs =
      options.timeoutSeconds === undefined ? undefined : Math.round(options.timeoutSeconds * 1000);
    const pgPool = new pg.Pool({
      connectionString: config.url,
      max: 10,
      connectionTimeoutMillis: timeoutMs ?? 10_000,
      ...(timeoutMs === undefined
        ? {}
        : {
            // Client side: the answer must come within the limit, whatever the network does.
            query_timeout: timeoutMs,
            // Server side: the statement is cancelled too, so it does not go on running (and locking) after we
            // gave up on it.
            statement_timeout: timeoutMs,
            // A session stuck in a transaction (its client gone) gives its locks back.
            idle_in_transaction_session_timeout: Math.max(60_000, timeoutMs * 2),
          }),
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      idleTimeoutMillis: 30_000,
    });
    // An idle client losing its connection must not crash the process.
    pgPool.on('error', () => {});
    pool = discardingUnreachableClients(pgPool);
  } else {
    await fs.mkdir(config.dataDir, { recursive: true, mode: 0o700 });
    await initEmbeddedInChild(config.dataDir);
    const { PGlite } = await import('@electric-sql/pglite');
    const pglite = await PGlite.create(config.dataDir, embeddedOptions(PGlite, config.sharedBuffers)).catch(
      (error: unknown) => {
        throw embeddedDatabaseError(error, config.dataDir);
      },
    );
    // PGlite unpacks a fresh database with its files at 0666, whatever the umask: take group and other access away
    // (also from a data folder made by an older version). Files PostgreSQL makes later are 0600 already.
    await removeGroupAndOtherAccess(config.dataDir);
    const pglitePool = new PGlitePool(pglite);
    writeCount = () => pglitePool.writeCount;
    pool = pglitePool;
  }
  const db = new Kysely<DatabaseSchema>({ dialect: new PostgresDialect({ pool }) });
  let closed = false;
  return {
    kind: config.kind,
    db,
    writeCount,
    async ping() {
      await db.selectNoFrom((eb) => eb.lit(1).as('one')).execute();
    },
    async migrate() {
      if (config.kind === 'pglite' || options.timeoutSeconds === undefined) return migrateToLatest(db);
      const migrating = await createDatabase(config);
      try {
        return await migrateToLatest(migrating.db);
      } finally {
        await migrating.close();
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await db.destroy();
    },
  };
}

/**
 * PGlite's start-up parameters with `shared_buffers` set: PostgreSQL's default (128MB) is allocated, and touched, in
 * PGlite's WebAssembly heap, the largest part of the embedded server's memory. Left alone when PGlite does not
 * expose its defaults (they carry `--single` and other flags it needs).
 */
function embeddedOptions(pglite: unknown, sharedBuffers: string | undefined): { startParams?: string[] } {
  const defaults = (pglite as { defaultStartParams?: unknown }).defaultStartParams;
  if (!sharedBuffers || !Array.isArray(defaults)) return {};
  return { startParams: [...(defaults as string[]), '-c', `shared_buffers=${sharedBuffers}`] };
}

/**
 * Runs initdb for a new embedded database in a child process (src/db/init-embedded.ts): initdb grows PGlite's
 * WebAssembly heap to ~800 MB, which a process never gives back, so the server would idle at that size forever
 * after its first start. Only for a folder that is empty; when the child fails, what it left is removed and the
 * caller's own `PGlite.create` runs initdb in-process (and reports its error in the usual words).
 */
async function initEmbeddedInChild(dataDir: string): Promise<void> {
  if ((await fs.readdir(dataDir)).length > 0) return;
  const built = fileURLToPath(new URL('./init-embedded.js', import.meta.url));
  const args = existsSync(built)
    ? [built]
    : ['--import', 'tsx', fileURLToPath(new URL('./init-embedded.ts', import.meta.url))];
  try {
    await execFileAsync(process.execPath, [...args, dataDir], { timeout: 5 * 60_000 });
  } catch {
    for (const name of await fs.readdir(dataDir)) {
      await fs.rm(path.join(dataDir, name), { recursive: true, force: true });
    }
  }
}

/** Takes group and other permissions away from `dir` and everything beneath it (symbolic links are left alone). */
async function removeGroupAndOtherAccess(dir: string): Promise<void> {
  const visit = async (file: string): Promise<void> => {
    const stat = await fs.lstat(file);
    if (stat.isSymbolicLink()) return;
    if ((stat.mode & 0o077) !== 0) await fs.chmod(file, stat.mode & 0o700);
    if (stat.isDirectory()) {
      for (const name of await fs.readdir(file)) await visit(path.join(file, name));
    }
  };
  await visit(dir);
}

/**
 * A pool whose connections are closed instead of reused once a query on them failed because the database was out
 * of reach (or the connection was lost while checked out): after a query timeout the connection still waits for the
 * lost answer, and every later query on it would wait behind it.
 */
function discardingUnreachableClients(pool: pg.Pool): PostgresPool {
  return {
    async connect(): Promise<PostgresPoolClient> {
      const client = await pool.connect();
      let unreachable = false;
      // A connection lost while checked out but between queries (inside a transaction, say) is reported as an
      // 'error' event that nobody else listens to, which would end the process: note it, and let the next query
      // on it fail instead.
      const onLost = () => {
        unreachable = true;
      };
      client.on('error', onLost);
      return {
        query: (async (sql: string, parameters: ReadonlyArray<unknown>) => {
          try {
            return await client.query(sql, [...parameters]);
          } catch (error) {
            if (isDatabaseUnavailable(error)) unreachable = true;
            throw error;
          }
        }) as unknown as PostgresPoolClient['query'],
        release: (destroy?: boolean) => {
          client.off('error', onLost);
          client.release(Boolean(destroy) || unreachable);
        },
      };
    },
    end: () => pool.end(),
  };
}

/** Brings the schema up to date. Safe to run from several processes at once (PostgreSQL advisory lock). */
export async function migrateToLatest(db: Db): Promise<string[]> {
  // Migration numbers are reserved per change, so one may land before a lower-numbered one: run those too.
  const migrator = new Migrator({ db, provider: migrationProvider, allowUnorderedMigrations: true });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    throw new Error(`Database migration failed: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
