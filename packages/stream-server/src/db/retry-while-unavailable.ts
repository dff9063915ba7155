import type { Transaction } from 'kysely';

import type { Db } from './create-database.js';
import { isDatabaseUnavailable } from './database-errors.js';
import type { DatabaseSchema } from './schema.js';

export interface RetryWhileUnavailableOptions {
  /** Stops waiting (the lease was lost, or the process shuts down): the wait then rejects with its reason. */
  signal: AbortSignal;
  /** Pause between tries while the database is out of reach; default 1000 ms. */
  intervalMs?: number;
  /** Called once, on the first try that found the database out of reach. */
  onWait?: (error: unknown) => void;
}

/**
 * Runs `write` until it gets through: while it fails because the database is out of reach (see
 * `isDatabaseUnavailable`) it is tried again every `intervalMs`, until `signal` aborts; any other error is thrown at
 * once. For the last write of finished work (a generation's completion), so that an outage delays it rather than
 * throwing the work away. `write` must be safe to run again (a conditional update, or a transaction).
 *
 * @example
 * const row = await retryWhileUnavailable(() => completeGeneration(db, job, result), { signal });
 */
export async function retryWhileUnavailable<T>(
  write: () => Promise<T>,
  options: RetryWhileUnavailableOptions,
): Promise<T> {
  const { signal, intervalMs = 1000 } = options;
  let waited = false;
  for (;;) {
    signal.throwIfAborted();
    try {
      return await write();
    } catch (error) {
      if (!isDatabaseUnavailable(error) || signal.aborted) throw error;
      if (!waited) options.onWait?.(error);
      waited = true;
    }
    await pause(intervalMs, signal);
  }
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', aborted);
    };
    const aborted = () => {
      done();
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      done();
      resolve();
    }, ms);
    signal.addEventListener('abort', aborted, { once: true });
  });
}

/**
 * `db.transaction()` whose `execute` runs the whole transaction again while the database is out of reach (see
 * {@link retryWhileUnavailable}): for a transaction of conditional writes that is safe to run twice.
 *
 * @example
 * const row = await transactionRetriedWhileUnavailable(db, { signal }).execute((trx) => completeGeneration(trx, job, r));
 */
export function transactionRetriedWhileUnavailable(
  db: Db,
  options: RetryWhileUnavailableOptions,
): { execute<T>(work: (trx: Transaction<DatabaseSchema>) => Promise<T>): Promise<T> } {
  return {
    execute: (work) => retryWhileUnavailable(() => db.transaction().execute(work), options),
  };
}
