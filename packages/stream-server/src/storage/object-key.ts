import { StorageError, StorageErrorCode, MAX_PRESIGN_SECONDS } from './storage.js';

/** S3's limit on key length, in UTF-8 bytes. */
const MAX_KEY_BYTES = 1024;

function invalid(what: string, value: string, reason: string): StorageError {
  return new StorageError(`Invalid storage ${what} ${JSON.stringify(value)}: ${reason}`, false, {
    code: StorageErrorCode.InvalidKey,
  });
}

function checkCommon(what: string, value: string): void {
  if (Buffer.byteLength(value, 'utf8') > MAX_KEY_BYTES) throw invalid(what, value, 'longer than 1024 bytes');
  if (value.startsWith('/')) throw invalid(what, value, 'must not start with "/"');
  if (value.includes('\\')) throw invalid(what, value, 'must not contain a backslash');
  // NUL and other control characters have no business in a key and confuse file systems and logs.
  if (/[\u0000-\u001f\u007f]/.test(value)) throw invalid(what, value, 'must not contain control characters');
}

/**
 * Checks an object key, the same way for every storage: non-empty, relative, `/`-separated segments that are
 * neither empty, `.` nor `..`, no backslashes or control characters. Throws `StorageError` (`invalid_key`).
 *
 * @example
 * assertValidKey('videos/u1/v1_hls/segment0.ts'); // ok
 * assertValidKey('videos/../etc/passwd'); // throws
 */
export function assertValidKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0) throw invalid('key', String(key), 'must not be empty');
  checkCommon('key', key);
  for (const segment of key.split('/')) {
    if (segment === '') throw invalid('key', key, 'must not contain empty segments or end with "/"');
    if (segment === '.' || segment === '..')
      throw invalid('key', key, 'must not contain "." or ".." segments');
  }
}

/**
 * Checks a listing/deletion prefix: like a key, but may end with `/` and may end in a partial segment.
 * The empty prefix is accepted only when `allowEmpty` is set (listing everything, never deleting everything).
 */
export function assertValidPrefix(prefix: string, { allowEmpty }: { allowEmpty: boolean }): void {
  if (typeof prefix !== 'string') throw invalid('prefix', String(prefix), 'must be a string');
  if (prefix.length === 0) {
    if (allowEmpty) return;
    throw invalid('prefix', prefix, 'must not be empty');
  }
  checkCommon('prefix', prefix);
  const segments = prefix.split('/');
  segments.forEach((segment, index) => {
    const last = index === segments.length - 1;
    if (segment === '' && !last) throw invalid('prefix', prefix, 'must not contain empty segments');
    if (segment === '..' || (segment === '.' && !last)) {
      throw invalid('prefix', prefix, 'must not contain "." or ".." segments');
    }
  });
}

/** Checks a presigned URL lifetime: a whole number of seconds between 1 and 7 days. */
export function assertValidExpiry(expiresInSeconds: number): void {
  if (!Number.isInteger(expiresInSeconds) || expiresInSeconds < 1 || expiresInSeconds > MAX_PRESIGN_SECONDS) {
    throw new StorageError(
      `Presigned URL lifetime must be a whole number of seconds between 1 and ${MAX_PRESIGN_SECONDS}, got ${expiresInSeconds}`,
      false,
      { code: StorageErrorCode.InvalidRequest },
    );
  }
}

/** Checks a multipart part number (S3 allows 1–10000). */
export function assertValidPartNumber(partNumber: number): void {
  if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > 10_000) {
    throw new StorageError(`Part numbers run from 1 to 10000, got ${partNumber}`, false, {
      code: StorageErrorCode.InvalidRequest,
    });
  }
}
