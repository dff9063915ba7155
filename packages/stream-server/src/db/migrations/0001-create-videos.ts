import { sql, type Kysely } from 'kysely';

// Frozen in time: never import application code here.

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('videos')
    .addColumn('id', 'uuid', (col) => col.primaryKey())
    .addColumn('owner_id', 'text', (col) => col.notNull())
    .addColumn('title', 'text')
    .addColumn('source_key', 'text', (col) => col.notNull().unique())
    .addColumn('content_type', 'text')
    .addColumn('size_bytes', 'bigint')
    .addColumn('upload_status', 'text', (col) => col.notNull().defaultTo('pending'))
    .addColumn('upload_id', 'text')
    .addColumn('duration_seconds', 'double precision')
    .addColumn('media_info', 'jsonb')
    .addColumn('hls_status', 'text')
    .addColumn('hls_playlist_key', 'text')
    .addColumn('hls_generated_at', 'timestamptz')
    .addColumn('hls_error_message', 'text')
    .addColumn('hls_progress', 'double precision')
    .addColumn('hls_mode', 'text')
    .addColumn('hls_requested_at', 'timestamptz')
    .addColumn('hls_run_id', 'uuid')
    .addColumn('hls_attempts', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('hls_lease_owner', 'text')
    .addColumn('hls_lease_expires_at', 'timestamptz')
    .addColumn('hls_next_attempt_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addCheckConstraint('videos_hls_status_check', sql`hls_status in ('generating', 'ready', 'failed')`)
    .addCheckConstraint('videos_upload_status_check', sql`upload_status in ('pending', 'complete')`)
    .execute();

  await db.schema
    .createIndex('videos_owner_created_idx')
    .on('videos')
    .columns(['owner_id', 'created_at'])
    .execute();
  await db.schema.createIndex('videos_hls_status_idx').on('videos').column('hls_status').execute();
  await db.schema
    .createIndex('videos_hls_playlist_key_idx')
    .on('videos')
    .column('hls_playlist_key')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('videos').execute();
}
