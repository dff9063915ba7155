import { sql, type Kysely } from 'kysely';

// Frozen in time: never import application code here.

/**
 * Paged lists walk videos newest first by (created_at, id): one index per list, a user's own and the management
 * list across owners.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createIndex('videos_owner_created_id_idx')
    .on('videos')
    .expression(sql`owner_id, created_at desc, id desc`)
    .execute();
  await db.schema
    .createIndex('videos_created_id_idx')
    .on('videos')
    .expression(sql`created_at desc, id desc`)
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('videos_created_id_idx').execute();
  await db.schema.dropIndex('videos_owner_created_id_idx').execute();
}
