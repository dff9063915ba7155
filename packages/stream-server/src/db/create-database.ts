import fs from 'node:fs/promises';

import { Kysely, Migrator, PostgresDialect } from 'kysely';
import pg from 'pg';

import type { DatabaseConfig } from '../config/load-config.js';
import { migrationProvider } from './migrations/index.js';
import { PGlitePool } from './pglite-pool.js';
import type { DatabaseSchema } from './schema.js';

export type Db = Kysely<DatabaseSchema>;

export interface Database {
  readonly kind: DatabaseConfig['kind'];
  readonly db: Db;
  /** Resolves when the database answers a query. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Opens the database the config describes: real PostgreSQL through `pg`, or PGlite (WASM PostgreSQL) under the
 * data folder. Both go through Kysely's own `PostgresDialect`, so everything above this seam is the same code.
 */
export async function createDatabase(config: DatabaseConfig): Promise<Database> {
  let pool: pg.Pool | PGlitePool;
  if (config.kind === 'postgres') {
    pool = new pg.Pool({ connectionString: config.url, max: 10, connectionTimeoutMillis: 10_000 });
    // An idle client losing its connection must not crash the process.
    pool.on('error', () => {});
  } else {
    await fs.mkdir(config.dataDir, { recursive: true });
    const { PGlite } = await import('@electric-sql/pglite');
    pool = new PGlitePool(await PGlite.create(config.dataDir));
  }
  const db = new Kysely<DatabaseSchema>({ dialect: new PostgresDialect({ pool }) });
  let closed = false;
  return {
    kind: config.kind,
    db,
    async ping() {
      await db.selectNoFrom((eb) => eb.lit(1).as('one')).execute();
    },
    async close() {
      if (closed) return;
      closed = true;
      await db.destroy();
    },
  };
}

/** Brings the schema up to date. Safe to run from several processes at once (PostgreSQL advisory lock). */
export async function migrateToLatest(db: Db): Promise<string[]> {
  const migrator = new Migrator({ db, provider: migrationProvider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    throw new Error(`Database migration failed: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
