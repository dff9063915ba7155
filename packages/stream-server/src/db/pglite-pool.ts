import type { PGlite } from '@electric-sql/pglite';
import type { PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely';

/**
 * A `pg`-Pool-shaped wrapper around one PGlite instance, for Kysely's own `PostgresDialect`.
 *
 * PGlite is a single session: two interleaved transactions would share it and one's rollback would undo the
 * other's work. So `connect()` hands out the one session to one holder at a time; the others wait their turn
 * (FIFO). Everything that talks to PGlite must go through this pool.
 */
export class PGlitePool implements PostgresPool {
  #queue: Array<() => void> = [];
  #busy = false;
  #ended = false;

  constructor(readonly pglite: PGlite) {}

  async connect(): Promise<PostgresPoolClient> {
    if (this.#ended) throw new Error('The embedded database is closed');
    await this.#acquire();
    let released = false;
    const pglite = this.pglite;
    const client = {
      query: async <R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>> => {
        if (released) throw new Error('Query on a released embedded-database connection');
        const result = await pglite.query<R>(sql, [...parameters]);
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
