import { randomUUID } from 'node:crypto';

import type { Db } from '../db/create-database.js';
import type { VideoRow } from '../db/schema.js';
import { toVideoJson } from '../videos/video-json.js';

/** Events a host app can subscribe to (one URL receives all of them). */
export const WebhookEvent = {
  HlsReady: 'video.hls.ready',
  HlsFailed: 'video.hls.failed',
} as const;
export type WebhookEvent = (typeof WebhookEvent)[keyof typeof WebhookEvent];

/**
 * Queues a delivery. Call it with the transaction that changes the video's state, so the event exists exactly when
 * the state change does.
 */
export async function enqueueWebhook(
  db: Db,
  event: WebhookEvent,
  video: VideoRow,
  now = new Date(),
): Promise<void> {
  const id = randomUUID();
  const payload = JSON.stringify({
    id,
    type: event,
    created_at: now.toISOString(),
    data: { video: toVideoJson(video) },
  });
  await db.insertInto('webhook_deliveries').values({ id, event, payload }).execute();
}
