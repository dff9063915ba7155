import { sql } from 'kysely';

import type { Db } from '../db/create-database.js';
import { HlsStatus, type VideoRow } from '../db/schema.js';

/** The longest `retry_after` a queued first view is told (it may still start sooner: asking again is cheap). */
export const MAX_BACKLOG_RETRY_AFTER_SECONDS = 30;

export interface BacklogOptions {
  /** Generations the workers start at once (`WORKER_CONCURRENCY`). */
  slots: number;
  /** The usual `retry_after` (`STREAM_RETRY_AFTER_SECONDS`): about how long a started generation needs to play. */
  retryAfterSeconds: number;
}

/**
 * How long a viewer of a generating video that no worker has started yet should wait before asking again: the
 * usual `retry_after` once per wave of `slots` first views queued before it (claims go in request order), up to
 * {@link MAX_BACKLOG_RETRY_AFTER_SECONDS}. A video a worker already runs, or the first wave, gets the usual value.
 * One indexed count, asked only for answers that are not playable yet.
 *
 * @example
 * await backlogRetryAfter(db, video, { slots: 8, retryAfterSeconds: 2 }); // 2, or 4 behind 8 queued first views
 */
export async function backlogRetryAfter(db: Db, video: VideoRow, options: BacklogOptions): Promise<number> {
  const base = options.retryAfterSeconds;
  const claimed = video.hls_lease_owner !== null && video.hls_lease_expires_at !== null;
  if (video.hls_status !== HlsStatus.Generating || claimed || video.hls_requested_at === null) return base;
  const row = await db
    .selectFrom('videos')
    .select((eb) => eb.fn.countAll<string>().as('ahead'))
    .where('hls_status', '=', HlsStatus.Generating)
    .where('hls_live_playlist', 'is', null)
    .where('hls_requested_at', '<', video.hls_requested_at)
    .where((eb) =>
      eb.or([eb('hls_lease_owner', 'is', null), eb('hls_lease_expires_at', '<', sql<Date>`now()`)]),
    )
    .executeTakeFirst();
  const ahead = Number(row?.ahead ?? 0);
  const waves = Math.floor(ahead / Math.max(1, options.slots));
  return Math.min(MAX_BACKLOG_RETRY_AFTER_SECONDS, base * (1 + waves));
}
