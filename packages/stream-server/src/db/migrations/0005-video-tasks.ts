import { sql, type Kysely } from 'kysely';

// Frozen in time: never import application code here.

/**
 * Work done for a video after its HLS is ready (poster and storyboard, lower renditions): durable, leased and
 * retried like generation jobs, and tied to the generation run that asked for it (`hls_run_id`), so a
 * regenerated or deleted video never receives the results of an older run.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('video_tasks')
    .addColumn('id', 'uuid', (col) => col.primaryKey())
    .addColumn('video_id', 'uuid', (col) => col.notNull().references('videos.id').onDelete('cascade'))
    .addColumn('hls_run_id', 'uuid', (col) => col.notNull())
    .addColumn('kind', 'text', (col) => col.notNull())
    /** Task parameters as JSON (e.g. the rendition's height). */
    .addColumn('params', 'text', (col) => col.notNull().defaultTo('{}'))
    .addColumn('status', 'text', (col) => col.notNull().defaultTo('pending'))
    /** What the task produced, as JSON (e.g. the rendition's playlist key, bandwidth, resolution, codecs). */
    .addColumn('result', 'text')
    .addColumn('error_message', 'text')
    .addColumn('attempts', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('lease_owner', 'text')
    .addColumn('lease_expires_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('video_tasks_video_idx').on('video_tasks').column('video_id').execute();
  await db.schema
    .createIndex('video_tasks_pending_idx')
    .on('video_tasks')
    .column('next_attempt_at')
    .where(sql.ref('status'), '=', 'pending')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('video_tasks').execute();
}
