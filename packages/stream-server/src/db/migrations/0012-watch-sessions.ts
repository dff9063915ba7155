import { sql, type Kysely } from 'kysely';

// Frozen in time: never import application code here.

/**
 * One row per viewing session, replaced by each report the player sends for it: what was watched is a few compact
 * ranges (`[[0, 42], [60, 75]]`, whole seconds), so storage grows with sessions, not with seconds watched. No IP
 * address, no cookie: the viewer is the user id of the playback token.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('watch_sessions')
    .addColumn('id', 'uuid', (col) => col.primaryKey())
    .addColumn('video_id', 'uuid', (col) => col.notNull().references('videos.id').onDelete('cascade'))
    .addColumn('viewer_id', 'text', (col) => col.notNull())
    .addColumn('startup_ms', 'integer')
    .addColumn('rebuffer_count', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('rebuffer_ms', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('error_code', 'text')
    .addColumn('watched', 'jsonb', (col) => col.notNull())
    .addColumn('rewatched', 'jsonb', (col) => col.notNull())
    .addColumn('watched_seconds', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('rewatched_seconds', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('rendition_switches', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('reached_90', 'boolean', (col) => col.notNull().defaultTo(false))
    .addColumn('ended', 'boolean', (col) => col.notNull().defaultTo(false))
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('watch_sessions_video_idx').on('watch_sessions').column('video_id').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('watch_sessions').execute();
}
