import { sql, type Kysely } from 'kysely';

// Frozen in time: never import application code here.

/** WebVTT captions uploaded for a video, one per language (BCP-47 tag, stored in its canonical case). */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('video_captions')
    .addColumn('video_id', 'uuid', (col) => col.notNull().references('videos.id').onDelete('cascade'))
    .addColumn('language', 'text', (col) => col.notNull())
    /** What players show in their captions menu, e.g. "English" or "Français (CC)". */
    .addColumn('label', 'text', (col) => col.notNull())
    .addColumn('storage_key', 'text', (col) => col.notNull())
    .addColumn('is_default', 'boolean', (col) => col.notNull().defaultTo(false))
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('video_captions_pk', ['video_id', 'language'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('video_captions').execute();
}
