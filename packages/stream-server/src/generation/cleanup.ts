import type { Logger } from 'pino';

import type { Db } from '../db/create-database.js';
import type { Storage } from '../storage/storage.js';

/** Objects derived from a video: its HLS (renditions, poster, storyboard) and its caption files. */
const DERIVED_KEY =
  /^videos\/([^/]+)\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})_(hls|captions)\//;

/**
 * Removes HLS and caption objects of videos that no longer exist (an object deletion failed, or a worker was still writing when
 * the video was deleted). Only rows that are gone count: ids are never reused, so this cannot race a new generation.
 * Safe to run in several processes at once, and repeatedly.
 */
export async function removeOrphanedHls(deps: { db: Db; storage: Storage; logger: Logger }): Promise<number> {
  const prefixes = new Map<string, Set<string>>();
  for (const object of await deps.storage.listObjects('videos/')) {
    const match = DERIVED_KEY.exec(object.key);
    if (!match?.[2]) continue;
    const set = prefixes.get(match[2]) ?? new Set<string>();
    set.add(`videos/${match[1]}/${match[2]}_${match[3]}/`);
    prefixes.set(match[2], set);
  }
  if (prefixes.size === 0) return 0;
  const ids = [...prefixes.keys()];
  const owned = new Set<string>();
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await deps.db
      .selectFrom('videos')
      .select('id')
      .where('id', 'in', ids.slice(i, i + 500))
      .execute();
    for (const row of rows) owned.add(row.id);
  }
  let removed = 0;
  for (const [id, set] of prefixes) {
    if (owned.has(id)) continue;
    for (const prefix of set) await deps.storage.deletePrefix(prefix);
    removed += 1;
  }
  if (removed > 0) deps.logger.info({ removed }, 'removed HLS and caption objects of deleted videos');
  return removed;
}

/**
 * Removes the sources of deleted videos that an upload URL stored after the deletion (a presigned S3 PUT cannot be
 * recalled before it expires). Each deleted video's own source key is watched until the last upload URL it may have
 * been handed (`GET …/upload` renews them until the deletion) has expired, plus a day for a PUT still sending; then
 * it is forgotten. Objects the service never handed an upload URL for (an existing bucket's sources waiting to be
 * imported) are never touched. Returns how many objects were removed.
 */
export async function removeOrphanedSources(deps: {
  db: Db;
  storage: Storage;
  logger: Logger;
  now?: Date;
}): Promise<number> {
  const now = deps.now ?? new Date();
  const rows = await deps.db.selectFrom('orphaned_sources').select(['source_key', 'remove_until']).execute();
  let removed = 0;
  for (const row of rows) {
    // A video registered again under the same key (never: keys carry the video id) would keep its source.
    const live = await deps.db
      .selectFrom('videos')
      .select('id')
      .where('source_key', '=', row.source_key)
      .executeTakeFirst();
    if (!live) {
      const head = await deps.storage.headObject(row.source_key);
      if (head) {
        await deps.storage.deleteObject(row.source_key);
        removed += 1;
      }
    }
    if (new Date(row.remove_until).getTime() <= now.getTime()) {
      await deps.db.deleteFrom('orphaned_sources').where('source_key', '=', row.source_key).execute();
    }
  }
  if (removed > 0) deps.logger.info({ removed }, 'removed sources uploaded after their video was deleted');
  return removed;
}
