import { sql } from 'kysely';
import type { Logger } from 'pino';

import type { Db } from '../db/create-database.js';
import type { WebhookDeliveryRow } from '../db/schema.js';
import { backoffSeconds } from '../jobs/backoff.js';
import type { JobContext, JobHandler, JobSource } from '../jobs/job-runner.js';
import { createLeasedQueue } from '../jobs/leased-queue.js';
import { signWebhook, SIGNATURE_HEADER } from './webhook-signature.js';

export interface WebhookDeliveryDeps {
  db: Db;
  url: string;
  secret: string;
  maxAttempts: number;
  timeoutMs?: number;
  fetch?: typeof fetch;
  onDelivered?: (event: string, ok: boolean) => void;
}

/** A delivery as a worker holds it. */
export interface ClaimedDelivery {
  id: string;
  workerId: string;
  delivery: WebhookDeliveryRow;
}

const LEASE_SECONDS = 60;

const deliveryQueue = createLeasedQueue<WebhookDeliveryRow, ClaimedDelivery>({
  table: 'webhook_deliveries',
  columns: {
    leaseOwner: 'lease_owner',
    leaseExpiresAt: 'lease_expires_at',
    attempts: 'attempts',
    nextAttemptAt: 'next_attempt_at',
  },
  claimable: sql<boolean>`delivered_at is null and failed_at is null`,
  order: sql`next_attempt_at`,
});

/** The receiver did not take the delivery: a failed attempt, retried with backoff. */
class DeliveryFailed extends Error {}

/**
 * Webhook delivery as a job kind of the job runner, with one slot of its own: POSTs the exact stored body, signed
 * with HMAC-SHA256 over `<timestamp>.<body>`, and retries failures (non-2xx including redirects, which are never
 * followed, timeouts, network errors) with exponential backoff and jitter up to `maxAttempts`. Deliveries are rows
 * with a lease, so a crash mid-delivery leads to a redelivery, never a loss: receivers must treat the event `id` as
 * an idempotency key.
 */
export function createWebhookDeliveryJobs(deps: WebhookDeliveryDeps): {
  source: JobSource<ClaimedDelivery>;
  handler: JobHandler<ClaimedDelivery>;
} {
  const fetchImpl = deps.fetch ?? fetch;

  const source: JobSource<ClaimedDelivery> = {
    what: 'webhook delivery',
    slots: 1,
    leaseSeconds: LEASE_SECONDS,
    async claim(workerId, leaseSeconds) {
      const delivery = await deliveryQueue.claim(deps.db, workerId, leaseSeconds);
      return delivery ? { id: delivery.id, workerId, delivery } : undefined;
    },
    renew: (claim, leaseSeconds) => deliveryQueue.renew(deps.db, claim, leaseSeconds),
    // Shutdown interrupted it: give it back untouched (the attempt not counted) for the next process.
    release: (claim) => deliveryQueue.release(deps.db, claim, null, { attempts: sql`attempts - 1` }),
    kindOf: () => 'webhook',
  };

  const run = async ({ delivery, ...claim }: ClaimedDelivery, { signal, log }: JobContext) => {
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
        signal: AbortSignal.any([AbortSignal.timeout(deps.timeoutMs ?? 10_000), signal]),
      });
      await response.arrayBuffer().catch(() => undefined);
      if (response.status >= 300 && response.status < 400) {
        error = `receiver answered HTTP ${response.status} (a redirect, not followed: set WEBHOOK_URL to the final URL)`;
      } else if (!response.ok) error = `receiver answered HTTP ${response.status}`;
    } catch (cause) {
      error = `request failed: ${(cause as Error).message}`;
    }
    if (error) throw new DeliveryFailed(error);
    await deliveryQueue.complete(
      deps.db,
      { ...claim, delivery },
      { delivered_at: sql`now()`, last_error: null },
    );
    deps.onDelivered?.(delivery.event, true);
    log.info(
      { deliveryId: delivery.id, event: delivery.event, attempt: delivery.attempts },
      'webhook delivered',
    );
  };

  const onFailure = async (claim: ClaimedDelivery, failure: unknown, { log }: JobContext) => {
    const { delivery } = claim;
    const error = failure instanceof Error ? failure.message : String(failure);
    if (!(failure instanceof DeliveryFailed)) log.error({ err: failure }, 'webhook delivery crashed');
    if (delivery.attempts >= deps.maxAttempts) {
      await deliveryQueue.fail(deps.db, claim, { failed_at: sql`now()`, last_error: error });
      deps.onDelivered?.(delivery.event, false);
      log.error({ deliveryId: delivery.id, event: delivery.event, error }, 'webhook delivery abandoned');
      return;
    }
    const delay = backoffSeconds(delivery.attempts);
    await deliveryQueue.release(deps.db, claim, delay, { last_error: error });
    log.warn(
      { deliveryId: delivery.id, event: delivery.event, error, retryInSeconds: delay },
      'webhook delivery failed; will retry',
    );
  };

  return {
    source,
    handler: {
      describe: () => ({}),
      run,
      onFailure,
      onLeaseLost: (claim: ClaimedDelivery, log: Logger) =>
        log.warn({ deliveryId: claim.id }, 'webhook delivery stopped: its lease was lost'),
    },
  };
}
