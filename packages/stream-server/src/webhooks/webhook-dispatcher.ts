import { randomUUID } from 'node:crypto';
import os from 'node:os';

import { sql, type UpdateObject } from 'kysely';
import type { Logger } from 'pino';

import type { Db } from '../db/create-database.js';
import type { DatabaseSchema, WebhookDeliveryRow } from '../db/schema.js';
import { backoffSeconds } from '../jobs/backoff.js';
import { signWebhook, SIGNATURE_HEADER } from './webhook-signature.js';

export interface WebhookDispatcherDeps {
  db: Db;
  url: string;
  secret: string;
  maxAttempts: number;
  pollMs: number;
  logger: Logger;
  timeoutMs?: number;
  fetch?: typeof fetch;
  onDelivered?: (event: string, ok: boolean) => void;
}

export interface WebhookDispatcher {
  start(): void;
  notify(): void;
  stop(): Promise<void>;
}

const LEASE_SECONDS = 60;

/**
 * Delivers queued webhook events: POSTs the exact stored body, signed with HMAC-SHA256 over `<timestamp>.<body>`,
 * and retries failures (non-2xx including redirects, which are never followed, timeouts, network errors) with
 * exponential backoff and jitter up to
 * `maxAttempts`. Deliveries are rows with a lease, so a crash mid-delivery leads to a redelivery, never a loss:
 * receivers must treat the event `id` as an idempotency key.
 */
export function createWebhookDispatcher(deps: WebhookDispatcherDeps): WebhookDispatcher {
  const workerId = `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const fetchImpl = deps.fetch ?? fetch;
  let stopping = false;
  let loop: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  const inFlight = new AbortController();

  const claim = async (): Promise<WebhookDeliveryRow | undefined> => {
    const result = await sql<WebhookDeliveryRow>`
      update webhook_deliveries set
        lease_owner = ${workerId},
        lease_expires_at = now() + make_interval(secs => ${LEASE_SECONDS}),
        attempts = attempts + 1
      where id = (
        select id from webhook_deliveries
        where delivered_at is null and failed_at is null and next_attempt_at <= now()
          and (lease_expires_at is null or lease_expires_at < now())
        order by next_attempt_at
        limit 1
        for update skip locked
      )
      returning *`.execute(deps.db);
    return result.rows[0];
  };

  const deliver = async (delivery: WebhookDeliveryRow) => {
    const timestamp = Math.floor(Date.now() / 1000);
    let error: string | undefined;
    try {
      const response = await fetchImpl(deps.url, {
        method: 'POST',
        body: delivery.payload,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'notetaker-stream-webhooks',
          'notetaker-event': delivery.event,
          'notetaker-delivery': delivery.id,
          [SIGNATURE_HEADER]: signWebhook(deps.secret, delivery.payload, timestamp),
        },
        // Never follow a redirect: it would hand the signed body to whatever the receiver points at (a 307 keeps
        // the POST), or count a 302 to some page as delivered. A 3xx is a failed attempt, retried like a 500.
        redirect: 'manual',
        signal: AbortSignal.any([AbortSignal.timeout(deps.timeoutMs ?? 10_000), inFlight.signal]),
      });
      await response.arrayBuffer().catch(() => undefined);
      if (response.status >= 300 && response.status < 400) {
        error = `receiver answered HTTP ${response.status} (a redirect, not followed: set WEBHOOK_URL to the final URL)`;
      } else if (!response.ok) error = `receiver answered HTTP ${response.status}`;
    } catch (cause) {
      error = `request failed: ${(cause as Error).message}`;
    }
    const settle = (values: UpdateObject<DatabaseSchema, 'webhook_deliveries'>) =>
      deps.db
        .updateTable('webhook_deliveries')
        .set(values)
        .where('id', '=', delivery.id)
        .where('lease_owner', '=', workerId)
        .execute();
    if (!error) {
      await settle({ delivered_at: sql`now()`, lease_owner: null, lease_expires_at: null, last_error: null });
      deps.onDelivered?.(delivery.event, true);
      deps.logger.info({ deliveryId: delivery.id, event: delivery.event, attempt: delivery.attempts }, 'webhook delivered');
      return;
    }
    if (stopping) {
      // Shutdown interrupted it: give it back untouched for the next process.
      await settle({ lease_owner: null, lease_expires_at: null, attempts: sql`attempts - 1` });
      return;
    }
    if (delivery.attempts >= deps.maxAttempts) {
      await settle({ failed_at: sql`now()`, last_error: error, lease_owner: null, lease_expires_at: null });
      deps.onDelivered?.(delivery.event, false);
      deps.logger.error({ deliveryId: delivery.id, event: delivery.event, error }, 'webhook delivery abandoned');
      return;
    }
    const delay = backoffSeconds(delivery.attempts);
    await settle({
      last_error: error,
      lease_owner: null,
      lease_expires_at: null,
      next_attempt_at: sql`now() + make_interval(secs => ${delay})`,
    });
    deps.logger.warn({ deliveryId: delivery.id, event: delivery.event, error, retryInSeconds: delay }, 'webhook delivery failed; will retry');
  };

  const run = async () => {
    while (!stopping) {
      let delivery: WebhookDeliveryRow | undefined;
      try {
        delivery = await claim();
      } catch (error) {
        if (!stopping) deps.logger.error({ err: error }, 'claiming a webhook delivery failed');
      }
      if (delivery) {
        await deliver(delivery).catch((error: unknown) => deps.logger.error({ err: error }, 'webhook delivery crashed'));
        continue;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, deps.pollMs);
        function done() {
          clearTimeout(timer);
          wake = undefined;
          resolve();
        }
        wake = done;
      });
    }
  };

  return {
    start() {
      loop ??= run();
    },
    notify() {
      wake?.();
    },
    async stop() {
      stopping = true;
      inFlight.abort();
      wake?.();
      await loop;
    },
  };
}
