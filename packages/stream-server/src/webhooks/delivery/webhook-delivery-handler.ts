import { sql } from 'kysely';
import type { Logger } from 'pino';

import type { Db } from '../../db/create-database.js';
import { DATABASE_RETRY_AFTER_SECONDS, isDatabaseUnavailable } from '../../db/database-errors.js';
import { retryWhileUnavailable } from '../../db/retry-while-unavailable.js';
import type { WebhookDeliveryRow } from '../../db/schema.js';
import { backoffSeconds } from '../../jobs/backoff.js';
import type { JobContext, JobHandler, JobSource } from '../../jobs/job-runner.js';
import { createLeasedQueue } from '../../jobs/leased-queue.js';
import { findEndpoint } from '../endpoints/endpoints-repository.js';
import { signatureHeaders, SignatureFormat } from '../signatures/signature-headers.js';

export interface WebhookDeliveryDeps {
  db: Db;
  /** The environment's endpoint (`WEBHOOK_URL`, `WEBHOOK_SECRET`); its deliveries wait while it is not set. */
  environment?: { url: string; secret: string } | undefined;
  /** Which signature headers to send (`WEBHOOK_SIGNATURE_FORMAT`); default standard. */
  signatureFormat?: SignatureFormat | undefined;
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

/** The receiver did not take the delivery: a failed attempt, retried with backoff. */
class DeliveryFailed extends Error {}

/** Where a delivery goes and what signs it. */
interface Target {
  url: string;
  /** The current secret first, then one still valid after a rotation. */
  secrets: [string, ...string[]];
}

/**
 * Webhook delivery as a job kind of the job runner, with one slot of its own: POSTs the exact stored body to its
 * endpoint (a registered one, or the environment's), signed as `WEBHOOK_SIGNATURE_FORMAT` says, and retries failures
 * (non-2xx including redirects, which are never followed, timeouts, network errors) with exponential backoff and
 * jitter up to `maxAttempts`. Only requests actually sent count as attempts: a delivery the database kept from being
 * attempted (decision 0024) is handed back without using one up. Deliveries are rows with a lease, so a crash
 * mid-delivery leads to a redelivery, never a loss: receivers treat `webhook-id` as an idempotency key.
 */
export function createWebhookDeliveryJobs(deps: WebhookDeliveryDeps): {
  source: JobSource<ClaimedDelivery>;
  handler: JobHandler<ClaimedDelivery>;
} {
  const fetchImpl = deps.fetch ?? fetch;
  const format = deps.signatureFormat ?? SignatureFormat.Standard;
  // A worker that is killed while sending never records an outcome: past this many claims, give up anyway.
  const maxClaims = deps.maxAttempts * 2 + 3;
  const queue = createLeasedQueue<WebhookDeliveryRow, ClaimedDelivery>({
    table: 'webhook_deliveries',
    columns: {
      leaseOwner: 'lease_owner',
      leaseExpiresAt: 'lease_expires_at',
      attempts: 'claims',
      nextAttemptAt: 'next_attempt_at',
    },
    // Registered endpoints that are enabled (a disabled one's deliveries were given up when it was disabled; this
    // covers the race), and the environment's when this process knows it.
    claimable: sql<boolean>`delivered_at is null and failed_at is null and (${
      deps.environment ? sql`endpoint_id is null or ` : sql``
    }exists (select 1 from webhook_endpoints e where e.id = webhook_deliveries.endpoint_id and e.enabled))`,
    order: sql`next_attempt_at`,
  });

  const source: JobSource<ClaimedDelivery> = {
    what: 'webhook delivery',
    slots: 1,
    leaseSeconds: LEASE_SECONDS,
    async claim(workerId, leaseSeconds) {
      const delivery = await queue.claim(deps.db, workerId, leaseSeconds);
      return delivery ? { id: delivery.id, workerId, delivery } : undefined;
    },
    renew: (claim, leaseSeconds) => queue.renew(deps.db, claim, leaseSeconds),
    // Shutdown interrupted it: give it back untouched (the claim not counted) for the next process.
    release: (claim) => queue.release(deps.db, claim, null, { claims: sql`claims - 1` }),
    kindOf: () => 'webhook',
  };

  /** The delivery's endpoint now, or why it has none (deleted or disabled since it was queued). */
  const targetOf = async (delivery: WebhookDeliveryRow): Promise<Target | string> => {
    if (delivery.endpoint_id === null) {
      return deps.environment
        ? { url: deps.environment.url, secrets: [deps.environment.secret] }
        : 'WEBHOOK_URL is not set';
    }
    const endpoint = await findEndpoint(deps.db, delivery.endpoint_id);
    if (!endpoint) return 'the endpoint was deleted';
    if (!endpoint.enabled) return 'not sent: the endpoint was disabled';
    const previousValid =
      endpoint.previous_secret !== null &&
      endpoint.previous_secret_expires_at !== null &&
      new Date(endpoint.previous_secret_expires_at).getTime() > Date.now();
    return {
      url: endpoint.url,
      secrets: previousValid ? [endpoint.secret, endpoint.previous_secret!] : [endpoint.secret],
    };
  };

  const run = async ({ delivery, ...claim }: ClaimedDelivery, { signal, log }: JobContext) => {
    const ref = { ...claim, delivery };
    if (delivery.claims > maxClaims) {
      throw new DeliveryFailed(`claimed ${delivery.claims} times without an outcome being recorded`);
    }
    const target = await targetOf(delivery);
    if (typeof target === 'string') {
      await queue.fail(deps.db, ref, { failed_at: sql`now()`, last_error: target });
      log.info(
        { deliveryId: delivery.id, event: delivery.event, reason: target },
        'webhook delivery dropped',
      );
      return;
    }
    const timestamp = Math.floor(Date.now() / 1000);
    let error: string | undefined;
    try {
      const response = await fetchImpl(target.url, {
        method: 'POST',
        body: delivery.payload,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'notetaker-stream-webhooks',
          'notetaker-event': delivery.event,
          'notetaker-delivery': delivery.event_id,
          ...signatureHeaders(format, target.secrets, delivery.event_id, timestamp, delivery.payload),
        },
        // Never follow a redirect: it would hand the signed body to whatever the receiver points at (a 307 keeps
        // the POST), or count a 302 to some page as delivered. A 3xx is a failed attempt, retried like a 500.
        redirect: 'manual',
        signal: AbortSignal.any([AbortSignal.timeout(deps.timeoutMs ?? 10_000), signal]),
      });
      await response.arrayBuffer().catch(() => undefined);
      if (response.status >= 300 && response.status < 400) {
        error = `receiver answered HTTP ${response.status} (a redirect, not followed: register the final URL)`;
      } else if (!response.ok) error = `receiver answered HTTP ${response.status}`;
    } catch (cause) {
      signal.throwIfAborted();
      error = `request failed: ${(cause as Error).message}`;
    }
    if (error) throw new DeliveryFailed(error);
    // The receiver has it: an outage now delays the record instead of sending it again.
    await retryWhileUnavailable(
      () =>
        queue.complete(deps.db, ref, {
          delivered_at: sql`now()`,
          attempts: sql`attempts + 1`,
          last_error: null,
        }),
      {
        signal,
        onWait: (e) =>
          log.warn({ err: e }, 'database unavailable; the delivered webhook waits to be recorded'),
      },
    );
    deps.onDelivered?.(delivery.event, true);
    log.info(
      { deliveryId: delivery.id, event: delivery.event, attempt: delivery.attempts + 1 },
      'webhook delivered',
    );
  };

  const onFailure = async (claim: ClaimedDelivery, failure: unknown, { log }: JobContext) => {
    const { delivery } = claim;
    if (isDatabaseUnavailable(failure)) {
      // Nothing was sent: no attempt used up, and the claim given back (if the database answers by then; else the
      // lease runs out, and the next claim is counted among the claims only).
      log.warn({ err: failure }, 'database unavailable; the webhook delivery waits for it');
      await queue
        .release(deps.db, claim, DATABASE_RETRY_AFTER_SECONDS, { claims: sql`claims - 1` })
        .catch(() => {});
      return;
    }
    const error = failure instanceof Error ? failure.message : String(failure);
    if (!(failure instanceof DeliveryFailed)) log.error({ err: failure }, 'webhook delivery crashed');
    const attempts = delivery.attempts + 1;
    if (attempts >= deps.maxAttempts || delivery.claims > maxClaims) {
      await queue.fail(deps.db, claim, {
        failed_at: sql`now()`,
        last_error: error,
        attempts: sql`attempts + 1`,
      });
      deps.onDelivered?.(delivery.event, false);
      log.error({ deliveryId: delivery.id, event: delivery.event, error }, 'webhook delivery abandoned');
      return;
    }
    const delay = backoffSeconds(attempts);
    await queue.release(deps.db, claim, delay, { last_error: error, attempts: sql`attempts + 1` });
    log.warn(
      { deliveryId: delivery.id, event: delivery.event, error, retryInSeconds: delay },
      'webhook delivery failed; will retry',
    );
  };

  return {
    source,
    handler: {
      describe: ({ delivery }) => ({ deliveryId: delivery.id, endpointId: delivery.endpoint_id }),
      run,
      onFailure,
      onLeaseLost: (claim: ClaimedDelivery, log: Logger) =>
        log.warn({ deliveryId: claim.id }, 'webhook delivery stopped: its lease was lost'),
    },
  };
}
