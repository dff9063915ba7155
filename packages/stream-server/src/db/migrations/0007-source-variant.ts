import type { Kysely } from 'kysely';

// Frozen in time: never import application code here.

/**
 * What the source rendition really is, as JSON (measured bandwidth, resolution, codecs, frame rate): its line in
 * the master playlist once lower renditions or captions exist.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('videos').addColumn('hls_variant', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('videos').dropColumn('hls_variant').execute();
}
