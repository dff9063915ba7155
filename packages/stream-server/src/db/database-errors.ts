import { UnavailableError } from '../errors/domain-error.js';

/**
 * Error codes of a database that cannot be reached or stopped answering: the network (`ECONNREFUSED`, `ECONNRESET`,
 * …), and PostgreSQL's connection-exception class `08`, shutdown and start-up states (`57P01`–`57P03`), too many
 * connections (`53300`) and a statement cancelled by `statement_timeout` (`57014`).
 */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  '57P01',
  '57P02',
  '57P03',
  '53300',
  '57014',
]);

/**
 * Messages of `pg` and `pg-pool` for a connection that timed out or was lost, and of an embedded database (PGlite)
 * that is closed (shutting down, or closed after a fatal error of its own).
 */
const UNAVAILABLE_MESSAGES = [
  /^PGlite is closed$/,
  /^The embedded database is closed$/,
  /^Query read timeout$/,
  /^timeout exceeded when trying to connect$/,
  /^Connection terminated/,
  /^Client has encountered a connection error and is not queryable$/,
  /^Client was closed and is not queryable$/,
];

/**
 * True when `error` says the database is out of reach (refused, reset, lost or timed out connections, query
 * timeouts), as opposed to a bug or bad data: the API answers such errors with 503 and `Retry-After`, and a
 * connection that failed this way is not reused.
 *
 * @example
 * isDatabaseUnavailable(new Error('Query read timeout')); // true
 */
export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (depth > 5 || typeof error !== 'object' || error === null) return false;
  const { code, message, cause, errors } = error as {
    code?: unknown;
    message?: unknown;
    cause?: unknown;
    errors?: unknown;
  };
  if (typeof code === 'string' && (UNAVAILABLE_CODES.has(code) || /^08[0-9A-Z]{3}$/.test(code))) return true;
  if (typeof message === 'string' && UNAVAILABLE_MESSAGES.some((pattern) => pattern.test(message)))
    return true;
  // Node reports a refused connection to several addresses (IPv4 and IPv6 of `localhost`) as an AggregateError.
  if (Array.isArray(errors) && errors.some((inner) => isDatabaseUnavailable(inner, depth + 1))) return true;
  return isDatabaseUnavailable(cause, depth + 1);
}

/** `Retry-After` of a 503 answered while the database is out of reach. */
export const DATABASE_RETRY_AFTER_SECONDS = 5;

/**
 * `error` in the service's words when it says the database is out of reach (see {@link isDatabaseUnavailable}):
 * an {@link UnavailableError} to be answered with 503 and `Retry-After`; `undefined` for any other error.
 *
 * @example
 * const unavailable = databaseUnavailableError(error);
 * if (unavailable) throw unavailable;
 */
export function databaseUnavailableError(error: unknown): UnavailableError | undefined {
  if (error instanceof UnavailableError) return error;
  if (!isDatabaseUnavailable(error)) return undefined;
  return new UnavailableError(
    'The database is not answering; try again shortly.',
    DATABASE_RETRY_AFTER_SECONDS,
    { cause: error },
  );
}

/** Emscripten's errno numbers (PGlite's file system errors carry these, not Node's codes). */
const EMSCRIPTEN_ERRNO: Readonly<Record<number, { code: string; text: string }>> = {
  2: { code: 'EACCES', text: 'permission denied' },
  19: { code: 'EDQUOT', text: 'disk quota exceeded' },
  29: { code: 'EIO', text: 'input/output error' },
  44: { code: 'ENOENT', text: 'no such file or directory' },
  51: { code: 'ENOSPC', text: 'no space left on device' },
  63: { code: 'EPERM', text: 'operation not permitted' },
  69: { code: 'EROFS', text: 'read-only file system' },
};

/**
 * Turns what PGlite throws when it cannot open its files into an `Error` with a message and a Node-style `code`:
 * its file system errors are plain objects (`{ name: 'ErrnoError', errno: 51 }`) that print as `[object Object]`.
 */
export function embeddedDatabaseError(error: unknown, dataDir: string): Error {
  if (error instanceof Error && typeof error.message === 'string' && error.message !== '') return error;
  const errno = (error as { errno?: unknown } | null)?.errno;
  const known = typeof errno === 'number' ? EMSCRIPTEN_ERRNO[errno] : undefined;
  const what = known ? `${known.text} (${known.code})` : `${JSON.stringify(error) ?? String(error)}`;
  return Object.assign(
    new Error(`The embedded database in ${dataDir} could not be opened: ${what}.`, { cause: error }),
    known ? { code: known.code } : {},
  );
}
