import type { PGlite } from '@electric-sql/pglite';
import type { PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely';

/** Statements that only read: anything else may change data (`with`, `begin`, `commit` and DDL included). */
const READ_ONLY_STATEMENT = /^\s*select\b/i;

/**
 * A `pg`-Pool-shaped wrapper around one PGlite instance, for Kysely's own `PostgresDialect`.
 *
 * PGlite is a single session: two interleaved transactions would share it and one's rollback would undo the
 * other's work. So `connect()` hands out the one session to one holder at a time; the others wait their turn
 * (FIFO). Everything that talks to PGlite must go through this pool.
 *
 * Because every statement of the database passes through here, the pool also counts those that may have changed
 * data ({@link writeCount}): a row read while the count stood still is exactly what a new read would return, which
 * lets the process keep such rows (see `videos/stream-service.ts`).
 */
export class PGlitePool implements PostgresPool {
  #queue: Array<() => void> = [];
  #busy = false;
  #ended = false;
  #writes = 0;

  /** Grows with every statement that may change data: as it starts and again once it has run (or failed). */
  get writeCount(): number {
    return this.#writes;
  }

  constructor(readonly pglite: PGlite) {}

  async connect(): Promise<PostgresPoolClient> {
    if (this.#ended) throw new Error('The embedded database is closed');
    await this.#acquire();
    let released = false;
    const pglite = this.pglite;
    const client = {
      query: async <R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>> => {
        if (released) throw new Error('Query on a released embedded-database connection');
        // Counted as it starts and once it has run (or failed): a row read or looked up in between is never
        // taken for current.
        const writes = !READ_ONLY_STATEMENT.test(sql);
        if (writes) this.#writes += 1;
        const result = await pglite.query<R>(sql, [...parameters]).finally(() => {
          if (writes) this.#writes += 1;
        });
        return {
          command: (result.command?.toUpperCase() ?? 'SELECT') as PostgresQueryResult<R>['command'],
          rowCount: result.rowCount ?? result.affectedRows ?? result.rows.length,
          rows: result.rows,
        };
      },
      release: () => {
        if (released) return;
        released = true;
        this.#release();
      },
    };
    return client as PostgresPoolClient;
  }

  async end(): Promise<void> {
    if (this.#ended) return;
    await this.#acquire();
    this.#ended = true;
    await this.pglite.close();
    this.#release();
  }

  #acquire(): Promise<void> {
    if (!this.#busy) {
      this.#busy = true;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#queue.push(resolve));
  }

  #release(): void {
    const next = this.#queue.shift();
    if (next) next();
    else this.#busy = false;
  }
}
