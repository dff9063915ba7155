import { sql } from 'kysely';

import type { Db } from '../../db/create-database.js';
import type { WebhookEndpointRow } from '../../db/schema.js';

// Data access for webhook_endpoints. Plain functions taking `db` (or a transaction) first.

export async function insertEndpoint(
  db: Db,
  endpoint: {
    id: string;
    url: string;
    description: string | null;
    events: readonly string[] | null;
    secret: string;
    enabled: boolean;
  },
): Promise<WebhookEndpointRow> {
  return db
    .insertInto('webhook_endpoints')
    .values({ ...endpoint, events: endpoint.events === null ? null : JSON.stringify(endpoint.events) })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function findEndpoint(db: Db, id: string): Promise<WebhookEndpointRow | undefined> {
  return db.selectFrom('webhook_endpoints').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Every endpoint, oldest first. */
export async function listEndpoints(db: Db): Promise<WebhookEndpointRow[]> {
  return db.selectFrom('webhook_endpoints').selectAll().orderBy('created_at').orderBy('id').execute();
}

export async function countEndpoints(db: Db): Promise<number> {
  const row = await db
    .selectFrom('webhook_endpoints')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Changes the given fields (`undefined` keeps one); the row, or `undefined` when there is no such endpoint. */
export async function updateEndpoint(
  db: Db,
  id: string,
  fields: {
    url?: string | undefined;
    description?: string | null | undefined;
    events?: readonly string[] | null | undefined;
    enabled?: boolean | undefined;
  },
): Promise<WebhookEndpointRow | undefined> {
  return db
    .updateTable('webhook_endpoints')
    .set({
      ...(fields.url === undefined ? {} : { url: fields.url }),
      ...(fields.description === undefined ? {} : { description: fields.description }),
      ...(fields.events === undefined
        ? {}
        : { events: fields.events === null ? null : JSON.stringify(fields.events) }),
      ...(fields.enabled === undefined ? {} : { enabled: fields.enabled }),
      updated_at: sql`now()`,
    })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
}

/** Replaces the secret; the old one keeps signing beside it until `previousValidSeconds` from now. */
export async function replaceSecret(
  db: Db,
  id: string,
  secret: string,
  previousValidSeconds: number,
): Promise<WebhookEndpointRow | undefined> {
  return db
    .updateTable('webhook_endpoints')
    .set({
      previous_secret: sql`secret`,
      previous_secret_expires_at: sql`now() + make_interval(secs => ${previousValidSeconds})`,
      secret,
      updated_at: sql`now()`,
    })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
}

/** Deletes the endpoint and (foreign key cascade) its deliveries; `true` when it existed. */
export async function deleteEndpoint(db: Db, id: string): Promise<boolean> {
  const row = await db
    .deleteFrom('webhook_endpoints')
    .where('id', '=', id)
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

/** Gives up the endpoint's pending deliveries (it was disabled): they are never sent, not even once re-enabled. */
export async function abandonPendingDeliveries(db: Db, endpointId: string, reason: string): Promise<number> {
  const result = await db
    .updateTable('webhook_deliveries')
    .set({ failed_at: sql`now()`, last_error: reason })
    .where('endpoint_id', '=', endpointId)
    .where('delivered_at', 'is', null)
    .where('failed_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}
