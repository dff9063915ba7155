import { sql, type Kysely } from 'kysely';

// Frozen in time: never import application code here.

/**
 * What a host app attaches to a video: `metadata`, a JSON object of its own (the meeting's id, a team…; at most
 * 4 KB, checked by the API), and `external_id`, the host's own id for the video, unique per owner. One partial
 * unique index, external_id first, serves both look-ups: one owner's video by its external id, and every owner's
 * videos with that external id (the management list without `owner_id`).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('videos')
    .addColumn('metadata', 'jsonb', (col) => col.notNull().defaultTo(sql`'{}'::jsonb`))
    .execute();
  await db.schema.alterTable('videos').addColumn('external_id', 'text').execute();
  await db.schema
    .createIndex('videos_external_id_owner_idx')
    .on('videos')
    .columns(['external_id', 'owner_id'])
    .unique()
    .where(sql.ref('external_id'), 'is not', null)
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('videos_external_id_owner_idx').execute();
  await db.schema.alterTable('videos').dropColumn('external_id').execute();
  await db.schema.alterTable('videos').dropColumn('metadata').execute();
}
