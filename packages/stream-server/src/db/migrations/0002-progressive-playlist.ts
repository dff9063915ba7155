import type { Kysely } from 'kysely';

// Frozen in time: never import application code here.

/** While a video is generating, the playlist of the segments already stored (an EVENT playlist). */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('videos').addColumn('hls_live_playlist', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('videos').dropColumn('hls_live_playlist').execute();
}
