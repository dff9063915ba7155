import { sql, type Kysely } from 'kysely';

// Frozen in time: never import application code here.

/**
 * Webhook endpoints registered through the management API, each with its own secret and event filter, and the
 * deliveries that go to them (docs/decisions/0023-webhook-endpoints-and-standard-signatures.md):
 *
 * - `webhook_endpoints.events` is a JSON array of event types, `null` for every event;
 * - `previous_secret` keeps signing, beside the new one, until `previous_secret_expires_at` after a rotation;
 * - `webhook_deliveries.endpoint_id` is the endpoint (deleted with it), `null` for the environment's one
 *   (`WEBHOOK_URL`); `event_id` is the event's id (the `webhook-id` header), shared by its deliveries and kept across
 *   retries; `claims` counts the worker's claims (the lease), while `attempts` now counts only requests actually
 *   sent (an outage of the database never uses one up).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('webhook_endpoints')
    .addColumn('id', 'uuid', (col) => col.primaryKey())
    .addColumn('url', 'text', (col) => col.notNull())
    .addColumn('description', 'text')
    .addColumn('events', 'jsonb')
    .addColumn('secret', 'text', (col) => col.notNull())
    .addColumn('previous_secret', 'text')
    .addColumn('previous_secret_expires_at', 'timestamptz')
    .addColumn('enabled', 'boolean', (col) => col.notNull().defaultTo(true))
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .alterTable('webhook_deliveries')
    .addColumn('endpoint_id', 'uuid', (col) => col.references('webhook_endpoints.id').onDelete('cascade'))
    .execute();
  await db.schema.alterTable('webhook_deliveries').addColumn('event_id', 'uuid').execute();
  // Until now each event had one delivery, whose id was the event's.
  await sql`update webhook_deliveries set event_id = id`.execute(db);
  await db.schema
    .alterTable('webhook_deliveries')
    .alterColumn('event_id', (col) => col.setNotNull())
    .execute();
  await db.schema
    .alterTable('webhook_deliveries')
    .addColumn('claims', 'integer', (col) => col.notNull().defaultTo(0))
    .execute();
  await sql`update webhook_deliveries set claims = attempts`.execute(db);
  await db.schema
    .createIndex('webhook_deliveries_endpoint_idx')
    .on('webhook_deliveries')
    .column('endpoint_id')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('webhook_deliveries_endpoint_idx').execute();
  await db.schema.alterTable('webhook_deliveries').dropColumn('claims').execute();
  await db.schema.alterTable('webhook_deliveries').dropColumn('event_id').execute();
  await db.schema.alterTable('webhook_deliveries').dropColumn('endpoint_id').execute();
  await db.schema.dropTable('webhook_endpoints').execute();
}
