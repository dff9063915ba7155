import { sql, type Kysely } from 'kysely';

// Frozen in time: never import application code here.

/**
 * A video's chapters, one row per video: the list is small (at most 500 entries) and always read and replaced
 * whole, so it is one JSON array (`[{ "start_seconds": 0, "title": "Intro" }, …]`, sorted by start).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('video_chapters')
    .addColumn('video_id', 'uuid', (col) => col.primaryKey().references('videos.id').onDelete('cascade'))
    .addColumn('chapters', 'jsonb', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('video_chapters').execute();
}
