import { randomUUID } from 'node:crypto';

import type { Db } from '../../db/create-database.js';
import type { WebhookEndpointRow } from '../../db/schema.js';
import { ConflictError, ErrorCode, InvalidInputError, NotFoundError } from '../../errors/domain-error.js';
import { checkEventFilter, type WebhookEventType } from '../events/event-types.js';
import { newWebhookSecret } from '../signatures/standard-signature.js';
import {
  abandonPendingDeliveries,
  countEndpoints,
  deleteEndpoint,
  findEndpoint,
  insertEndpoint,
  listEndpoints,
  replaceSecret,
  updateEndpoint,
} from './endpoints-repository.js';

/** Most endpoints one server keeps. */
export const MAX_WEBHOOK_ENDPOINTS = 100;

/** Longest URL and description, in characters. */
export const MAX_WEBHOOK_URL = 2048;
export const MAX_WEBHOOK_DESCRIPTION = 500;

/** How long the secret before a rotation keeps signing beside the new one (Svix's figure): 24 hours. */
export const PREVIOUS_SECRET_SECONDS = 24 * 60 * 60;

/** The public JSON shape of an endpoint (never its secret, which is answered once: on create and on rotation). */
export interface WebhookEndpointJson {
  id: string;
  url: string;
  description: string | null;
  /** The event types it receives; `null` for every one. */
  events: WebhookEventType[] | null;
  enabled: boolean;
  created_at: string;
  updated_at: string;
}

const iso = (value: Date | string) => (value instanceof Date ? value : new Date(value)).toISOString();

export function toEndpointJson(row: WebhookEndpointRow): WebhookEndpointJson {
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    events: row.events as WebhookEventType[] | null,
    enabled: row.enabled,
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
  };
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** An absolute http(s) URL without credentials; a 400 naming the problem otherwise. */
function checkUrl(value: string): string {
  const url = value.trim();
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidInputError(
      `url must be an absolute http:// or https:// URL (got ${JSON.stringify(value)}).`,
    );
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new InvalidInputError(`url must use http or https, not ${parsed.protocol.replace(/:$/, '')}.`);
  }
  if (parsed.username || parsed.password) {
    throw new InvalidInputError(
      'url must not carry a user name or password: deliveries are authenticated by their signature.',
    );
  }
  if (url.length > MAX_WEBHOOK_URL || CONTROL.test(url)) {
    throw new InvalidInputError(
      `url must be at most ${MAX_WEBHOOK_URL} characters, without control characters.`,
    );
  }
  return url;
}

function checkDescription(value: string | null | undefined): string | null | undefined {
  if (value === undefined || value === null) return value;
  const text = value.trim();
  if (text.length > MAX_WEBHOOK_DESCRIPTION || CONTROL.test(text)) {
    throw new InvalidInputError(
      `description must be at most ${MAX_WEBHOOK_DESCRIPTION} characters, without control characters.`,
    );
  }
  return text === '' ? null : text;
}

function checkEvents(list: readonly string[] | null | undefined): WebhookEventType[] | null | undefined {
  if (list === undefined) return undefined;
  const { events, problems } = checkEventFilter(list);
  if (problems.length > 0) throw new InvalidInputError(`events: ${problems.join('; ')}.`);
  return events;
}

const noSuchEndpoint = () => new NotFoundError('No such webhook endpoint.');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function existing(db: Db, id: string): Promise<WebhookEndpointRow> {
  const row = UUID.test(id) ? await findEndpoint(db, id) : undefined;
  if (!row) throw noSuchEndpoint();
  return row;
}

/** What a create or update takes (the management API's JSON, already shaped). */
export interface EndpointInput {
  url?: string | undefined;
  description?: string | null | undefined;
  /** Event types; `null` (or omitted on create) for every event. */
  events?: readonly string[] | null | undefined;
  enabled?: boolean | undefined;
}

/**
 * Registers a receiver with a secret of its own (`whsec_…`, answered here once) and an event filter.
 *
 * @example
 * const { endpoint, secret } = await createEndpoint(db, { url: 'https://app.example.com/hooks', events: ['video.hls.ready'] });
 */
export async function createEndpoint(
  db: Db,
  input: EndpointInput & { url: string },
): Promise<{ endpoint: WebhookEndpointJson; secret: string }> {
  const url = checkUrl(input.url);
  const description = checkDescription(input.description) ?? null;
  const events = checkEvents(input.events) ?? null;
  if ((await countEndpoints(db)) >= MAX_WEBHOOK_ENDPOINTS) {
    throw new ConflictError(
      ErrorCode.Conflict,
      `A server keeps at most ${MAX_WEBHOOK_ENDPOINTS} webhook endpoints; delete one first.`,
    );
  }
  const secret = newWebhookSecret();
  const row = await insertEndpoint(db, {
    id: randomUUID(),
    url,
    description,
    events,
    secret,
    enabled: input.enabled ?? true,
  });
  return { endpoint: toEndpointJson(row), secret };
}

export async function listEndpointsJson(db: Db): Promise<WebhookEndpointJson[]> {
  return (await listEndpoints(db)).map(toEndpointJson);
}

export async function getEndpoint(db: Db, id: string): Promise<WebhookEndpointJson> {
  return toEndpointJson(await existing(db, id));
}

/**
 * Changes an endpoint's URL, filter, description or state. Disabling it gives up its pending deliveries in the
 * same transaction: a disabled endpoint receives nothing, and nothing queued while it was off arrives later.
 */
export async function changeEndpoint(db: Db, id: string, input: EndpointInput): Promise<WebhookEndpointJson> {
  const fields = {
    url: input.url === undefined ? undefined : checkUrl(input.url),
    description: checkDescription(input.description),
    events: checkEvents(input.events),
    enabled: input.enabled,
  };
  if (Object.values(fields).every((value) => value === undefined)) {
    throw new InvalidInputError('Send at least one of url, events, description, enabled.');
  }
  await existing(db, id);
  const row = await db.transaction().execute(async (trx) => {
    const updated = await updateEndpoint(trx, id, fields);
    if (updated && fields.enabled === false) {
      await abandonPendingDeliveries(trx, id, 'not sent: the endpoint was disabled');
    }
    return updated;
  });
  if (!row) throw noSuchEndpoint();
  return toEndpointJson(row);
}

/** Deletes an endpoint and its deliveries (pending ones are never sent). */
export async function removeEndpoint(db: Db, id: string): Promise<void> {
  if (!UUID.test(id) || !(await deleteEndpoint(db, id))) throw noSuchEndpoint();
}

/**
 * Gives the endpoint a new secret (answered here once). For {@link PREVIOUS_SECRET_SECONDS} the old one keeps
 * signing too: each delivery then carries two signatures, so the receiver can switch to the new secret at its pace.
 */
export async function rotateEndpointSecret(
  db: Db,
  id: string,
): Promise<{ endpoint: WebhookEndpointJson; secret: string; previousSecretExpiresAt: string }> {
  await existing(db, id);
  const secret = newWebhookSecret();
  const row = await replaceSecret(db, id, secret, PREVIOUS_SECRET_SECONDS);
  if (!row || !row.previous_secret_expires_at) throw noSuchEndpoint();
  return {
    endpoint: toEndpointJson(row),
    secret,
    previousSecretExpiresAt: iso(row.previous_secret_expires_at),
  };
}
