import { sql, type RawBuilder } from 'kysely';

import type { Db } from '../db/create-database.js';

// Jobs as rows with a lease (docs/decisions/0003-jobs-as-leased-rows.md): one module writes the claim, renew,
// complete, fail and release SQL for every kind of job; a table only describes its columns and conditions.

/** What makes a claimed row a worker's own: its key and the worker that holds its lease. */
export interface LeaseRef {
  id: string;
  workerId: string;
}

/**
 * Column values to set: a plain value becomes a query parameter, a `sql` fragment is written as it is (e.g.
 * ``sql`now()` ``); `undefined` leaves the column alone.
 */
export type ColumnValues = Record<string, unknown>;

/** How a table holds jobs. Column names are identifiers of this code, never user input. */
export interface LeasedTable<Ref extends LeaseRef = LeaseRef> {
  table: string;
  /** The key column (default `id`). */
  key?: string;
  columns: {
    leaseOwner: string;
    leaseExpiresAt: string;
    attempts: string;
    /** When the row may be claimed (again); `null` means at once. */
    nextAttemptAt: string;
  };
  /** Besides a free or expired lease and a retry time that has come: what makes a row claimable. */
  claimable: RawBuilder<boolean>;
  /** The claim order, e.g. ``sql`created_at` ``. */
  order: RawBuilder<unknown>;
  /** Further columns to set on claim. */
  onClaim?: ColumnValues;
  /** A column stamped with `now()` on claim, complete, fail and release (e.g. `updated_at`). */
  touched?: string;
  /** Further conditions, besides key and lease owner, under which a lease is still the claim's (e.g. its run). */
  stillOurs?: (ref: Ref) => RawBuilder<boolean>;
  /**
   * Conditions under which the work is still wanted, checked when the lease is renewed and when the work completes
   * (e.g. that the video is still ready from the same run); failing and releasing need only the lease.
   */
  stillWanted?: (ref: Ref) => RawBuilder<boolean>;
}

export interface LeasedQueue<Row, Ref extends LeaseRef = LeaseRef> {
  /**
   * Takes the first claimable row whose lease is free or expired and whose retry time has come, leases it to
   * `workerId` for `leaseSeconds` and counts an attempt. `FOR UPDATE SKIP LOCKED` lets many workers claim at once
   * without ever sharing a row.
   */
  claim(db: Db, workerId: string, leaseSeconds: number): Promise<Row | undefined>;
  /** Extends the lease (and sets `values`); `false` when the row is no longer the claim's or no longer wanted. */
  renew(db: Db, ref: Ref, leaseSeconds: number, values?: ColumnValues): Promise<boolean>;
  /** Sets `values` while the lease is the claim's, without ending it; `false` when it is not. */
  update(db: Db, ref: Ref, values: ColumnValues): Promise<boolean>;
  /** Ends the lease with the work done (`values` record the result); the row, or `undefined` when not ours or not wanted. */
  complete(db: Db, ref: Ref, values: ColumnValues): Promise<Row | undefined>;
  /** Ends the lease for good (`values` record why); the row, or `undefined` when it was not ours. */
  fail(db: Db, ref: Ref, values: ColumnValues): Promise<Row | undefined>;
  /**
   * Gives the row back to be claimed again after `delaySeconds` (`null` keeps its retry time), setting `values`;
   * `false` when it was not ours.
   */
  release(db: Db, ref: Ref, delaySeconds: number | null, values?: ColumnValues): Promise<boolean>;
}

export function createLeasedQueue<Row, Ref extends LeaseRef = LeaseRef>(
  table: LeasedTable<Ref>,
): LeasedQueue<Row, Ref> {
  const t = sql.table(table.table);
  const key = sql.ref(table.key ?? 'id');
  const owner = sql.ref(table.columns.leaseOwner);
  const expires = sql.ref(table.columns.leaseExpiresAt);
  const attempts = sql.ref(table.columns.attempts);
  const next = sql.ref(table.columns.nextAttemptAt);
  const leaseFor = (seconds: number) => sql`now() + make_interval(secs => ${seconds})`;
  const touched = (): ColumnValues => (table.touched ? { [table.touched]: sql`now()` } : {});
  const endLease = (): ColumnValues => ({
    [table.columns.leaseOwner]: null,
    [table.columns.leaseExpiresAt]: null,
  });

  const assignments = (values: ColumnValues) =>
    sql.join(
      Object.entries(values)
        .filter(([, value]) => value !== undefined)
        .map(([column, value]) => sql`${sql.ref(column)} = ${value}`),
      sql`, `,
    );

  const ours = (ref: Ref, wanted: boolean) => {
    const conditions = [sql`${key} = ${ref.id}`, sql`${owner} = ${ref.workerId}`];
    if (table.stillOurs) conditions.push(table.stillOurs(ref));
    if (wanted && table.stillWanted) conditions.push(table.stillWanted(ref));
    return sql.join(conditions, sql` and `);
  };

  /** One conditional update; the whole row comes back only when the caller wants it (a lease renewal does not). */
  const write = async (db: Db, ref: Ref, values: ColumnValues, wanted: boolean, whole = false) => {
    const returning = whole ? sql`*` : key;
    const result =
      await sql<Row>`update ${t} set ${assignments(values)} where ${ours(ref, wanted)} returning ${returning}`.execute(
        db,
      );
    return result.rows[0];
  };

  return {
    async claim(db, workerId, leaseSeconds) {
      const result = await sql<Row>`
        update ${t} set
          ${owner} = ${workerId},
          ${expires} = ${leaseFor(leaseSeconds)},
          ${attempts} = ${attempts} + 1
          ${table.onClaim || table.touched ? sql`, ${assignments({ ...table.onClaim, ...touched() })}` : sql``}
        where ${key} = (
          select ${key} from ${t}
          where (${expires} is null or ${expires} < now())
            and (${next} is null or ${next} <= now())
            and ${table.claimable}
          order by ${table.order}
          limit 1
          for update skip locked
        )
        returning *`.execute(db);
      return result.rows[0];
    },
    async renew(db, ref, leaseSeconds, values = {}) {
      const row = await write(
        db,
        ref,
        { ...values, [table.columns.leaseExpiresAt]: leaseFor(leaseSeconds) },
        true,
      );
      return row !== undefined;
    },
    async update(db, ref, values) {
      return (await write(db, ref, values, false)) !== undefined;
    },
    complete(db, ref, values) {
      return write(db, ref, { ...values, ...endLease(), ...touched() }, true, true);
    },
    fail(db, ref, values) {
      return write(db, ref, { ...values, ...endLease(), ...touched() }, false, true);
    },
    async release(db, ref, delaySeconds, values = {}) {
      const retry = delaySeconds === null ? {} : { [table.columns.nextAttemptAt]: leaseFor(delaySeconds) };
      const row = await write(db, ref, { ...values, ...endLease(), ...retry, ...touched() }, false);
      return row !== undefined;
    },
  };
}
