import type { Kysely } from 'kysely';

// Frozen in time: never import application code here.

/** Storage keys of the poster and the storyboard WebVTT made after HLS generation (null when there are none). */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('videos').addColumn('poster_key', 'text').execute();
  await db.schema.alterTable('videos').addColumn('storyboard_key', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('videos').dropColumn('storyboard_key').execute();
  await db.schema.alterTable('videos').dropColumn('poster_key').execute();
}
