import { sql, type Kysely } from 'kysely';

// Frozen in time: never import application code here.

/**
 * Source keys of deleted videos whose upload URL may still be used: cleanup removes what a late PUT stores there
 * until `remove_until`, then forgets the key.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('orphaned_sources')
    .addColumn('source_key', 'text', (col) => col.primaryKey())
    .addColumn('remove_until', 'timestamptz', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('orphaned_sources').execute();
}
