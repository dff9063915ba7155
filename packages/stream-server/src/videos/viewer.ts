import type { UserIdentity } from '../auth/user-tokens.js';
import type { Db } from '../db/create-database.js';
import type { VideoRow } from '../db/schema.js';
import { isVideoId } from './video-json.js';
import { findVideo } from './videos-repository.js';

/** Who asks to play a video: a user and the videos their token's `watch` claim grants besides their own. */
export type Viewer = UserIdentity;

/** The owner themselves, with no grants (pre-generation and the management API speak for the owner). */
export function ownerViewer(video: Pick<VideoRow, 'owner_id'>): Viewer {
  return { userId: video.owner_id, watch: [] };
}

/** Whether `viewer` may play `video`: they own it, or their token's `watch` claim names it. */
export function canWatch(viewer: Viewer, video: Pick<VideoRow, 'id' | 'owner_id'>): boolean {
  return video.owner_id === viewer.userId || viewer.watch.includes(video.id);
}

/**
 * The video `viewer` may play (owned or granted); `undefined` otherwise — unknown, not yours and not granted all
 * look the same (404).
 *
 * @example
 * const video = await findWatchableVideo(db, id, { userId: 'bob', watch: [id] });
 */
export async function findWatchableVideo(db: Db, id: string, viewer: Viewer): Promise<VideoRow | undefined> {
  if (!isVideoId(id)) return undefined;
  const video = await findVideo(db, id);
  return video && canWatch(viewer, video) ? video : undefined;
}
