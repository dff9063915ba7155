import { randomUUID } from 'node:crypto';

import { sql } from 'kysely';

import type { Db } from '../../db/create-database.js';
import { filterAccepts, type WebhookEventType } from './event-types.js';

/** The event's `data`: the video as the API shows it, plus what the event is about (a rendition, the captions…). */
export type WebhookEventData = { video: unknown } & Record<string, unknown>;

/** How events become deliveries: one per subscribed endpoint, written with the change they announce. */
export interface WebhookEvents {
  /**
   * Queues the event for every enabled endpoint whose filter takes it, and for the environment's endpoint
   * (`WEBHOOK_URL`) when its filter does. Call it with the transaction that makes the change, so the event exists
   * exactly when the change does (a rolled-back change sends nothing). Returns how many deliveries were queued.
   */
  publish(db: Db, type: WebhookEventType, data: WebhookEventData): Promise<number>;
  /** After the transaction committed: wakes this process's delivery worker (others find it at their next poll). */
  wake(): void;
}

export interface WebhookEventsOptions {
  /** The environment's endpoint (`WEBHOOK_URL`) and its filter (`WEBHOOK_EVENTS`; `null` = every event), if set. */
  environment?: { events: readonly WebhookEventType[] | null } | undefined;
  /** Wakes the delivery worker. */
  onQueued?: (() => void) | undefined;
  clock?: () => Date;
}

/**
 * Creates the one way the service announces changes. Without options it queues for registered endpoints only (what a
 * process without `WEBHOOK_URL` does).
 *
 * @example
 * await db.transaction().execute(async (trx) => {
 *   const video = await insertVideo(trx, row);
 *   await events.publish(trx, WebhookEventType.VideoCreated, { video: toVideoJson(video) });
 * });
 * events.wake();
 */
export function createWebhookEvents(options: WebhookEventsOptions = {}): WebhookEvents {
  const clock = options.clock ?? (() => new Date());
  return {
    async publish(db, type, data) {
      // KEY SHARE: an endpoint being deleted meanwhile waits for this transaction (or is skipped once it is gone),
      // so the change never fails on the deliveries' foreign key.
      const endpoints = await db
        .selectFrom('webhook_endpoints')
        .select(['id', 'events'])
        .where('enabled', '=', true)
        .forKeyShare()
        .execute();
      const targets: Array<string | null> = endpoints
        .filter((endpoint) => filterAccepts(endpoint.events, type))
        .map((endpoint) => endpoint.id);
      if (options.environment && filterAccepts(options.environment.events, type)) targets.push(null);
      if (targets.length === 0) return 0;
      const eventId = randomUUID();
      const payload = JSON.stringify({ id: eventId, type, created_at: clock().toISOString(), data });
      await db
        .insertInto('webhook_deliveries')
        .values(
          targets.map((endpointId) => ({
            id: randomUUID(),
            event_id: eventId,
            endpoint_id: endpointId,
            event: type,
            payload,
            // The statement's own time, not the transaction's: two events of one change go out in their order.
            next_attempt_at: sql<Date>`clock_timestamp()`,
          })),
        )
        .execute();
      return targets.length;
    },
    wake() {
      options.onQueued?.();
    },
  };
}
