import type { Readable } from 'node:stream';

import { UnavailableError } from '../errors/domain-error.js';

/** What a stored object looks like from the outside. */
export interface ObjectInfo {
  key: string;
  size: number;
  contentType?: string | undefined;
  etag?: string | undefined;
  lastModified?: Date | undefined;
}

export interface PutOptions {
  contentType?: string;
  /** Required by S3 for stream bodies; optional for buffers/strings/files. */
  contentLength?: number;
  cacheControl?: string;
  signal?: AbortSignal;
  /**
   * `putFile` only: the file is finished and will never be written again, only deleted (a segment ffmpeg has
   * listed, a rendered poster). Local storage then stores it as a hard link rather than a copy — one write of
   * the bytes instead of two — when both folders are on the same file system. Never set it for a file someone may
   * still change in place (an operator's source file).
   */
  finalFile?: boolean;
}

export interface PresignOptions {
  /** Lifetime of the URL, in seconds (from `signedAt`). Never more than 7 days (S3's limit). */
  expiresInSeconds: number;
}

export interface PresignGetOptions extends PresignOptions {
  /**
   * Sign as of this moment instead of now (a signing window's start, see `signing-window.ts`): the same key, moment
   * and lifetime give the same URL, byte for byte. Must not be in the future.
   */
  signedAt?: Date | undefined;
  /**
   * Let shared caches keep the answer until the URL expires: S3 signs `response-cache-control=public` and
   * `response-expires` into the URL (the bucket answers with them); local storage always answers a signed GET with
   * `Cache-Control: public, max-age=<the URL's remaining life>`.
   */
  sharedCache?: boolean | undefined;
}

export interface PresignPutOptions extends PresignOptions {
  contentType?: string;
  /**
   * The exact length the PUT must have. S3 signs it as `Content-Length` (a body of any other size is refused);
   * local storage signs it into the URL and counts the bytes.
   */
  contentLength?: number;
  /**
   * Local storage only, when `contentLength` is not given: the most bytes the PUT may carry. (S3 cannot bound a
   * presigned PUT without an exact length.)
   */
  maxLength?: number;
  /**
   * The PUT only creates the object, never replaces one (`If-None-Match: *`, signed): a second PUT of the same URL
   * once the object exists is refused with 412. The client must send the `If-None-Match: *` header.
   */
  createOnly?: boolean;
}

export interface PresignPartOptions extends PresignOptions {
  /** The exact length of this part, signed into its URL like `PresignPutOptions.contentLength`. */
  contentLength?: number;
}

export interface CompletedPart {
  partNumber: number;
  etag: string;
}

/** A part of a multipart upload that storage holds. */
export interface StoredPart extends CompletedPart {
  size: number;
}

/**
 * The object-storage seam. Two implementations: S3-protocol storage (S3, R2, MinIO) and local storage under the
 * data folder, served by the service itself with signed, expiring URLs that behave like S3 presigned URLs.
 * Everything above this seam is the same code for both.
 */
export interface Storage {
  readonly kind: 'local' | 's3';
  putObject(key: string, body: Uint8Array | string | Readable, options?: PutOptions): Promise<void>;
  /** Uploads a file from disk (retries are safe: the file is re-read on each attempt). */
  putFile(key: string, filePath: string, options?: PutOptions): Promise<void>;
  getObject(key: string, options?: { signal?: AbortSignal }): Promise<{ body: Readable; info: ObjectInfo }>;
  getObjectText(key: string, options?: { signal?: AbortSignal }): Promise<string>;
  /**
   * The first `length` bytes of an object (fewer when it is shorter), read with one ranged GET, never the whole
   * object. Throws `StorageError` (`not_found`) when there is no object.
   */
  readHead(key: string, length: number, options?: { signal?: AbortSignal }): Promise<Uint8Array>;
  /** `null` when the object does not exist. */
  headObject(key: string): Promise<ObjectInfo | null>;
  /** Deleting a missing object is not an error. */
  deleteObject(key: string): Promise<void>;
  /** Deletes every object whose key starts with `prefix`; returns how many were deleted. */
  deletePrefix(prefix: string): Promise<number>;
  listObjects(prefix: string): Promise<ObjectInfo[]>;
  /**
   * An absolute URL that GETs the object, honouring `Range`, until it expires. (Local storage also answers HEAD
   * on it; S3 signs the method, so HEAD needs its own signature there.)
   */
  presignGet(key: string, options: PresignGetOptions): Promise<string>;
  /**
   * The object's file on this machine, for a process here (ffmpeg, ffprobe) to open directly instead of reading it
   * through a URL: local storage answers the path under its folder (whether or not the object exists; opening it
   * tells), S3 answers `undefined`. Throws `StorageError` (`invalid_key`) for an invalid key.
   */
  localPath(key: string): string | undefined;
  /** An absolute URL a client PUTs the whole object to. */
  presignPut(key: string, options: PresignPutOptions): Promise<string>;
  createMultipartUpload(key: string, options?: { contentType?: string }): Promise<{ uploadId: string }>;
  presignUploadPart(
    key: string,
    uploadId: string,
    partNumber: number,
    options: PresignPartOptions,
  ): Promise<string>;
  completeMultipartUpload(key: string, uploadId: string, parts: CompletedPart[]): Promise<void>;
  abortMultipartUpload(key: string, uploadId: string): Promise<void>;
  /**
   * The parts of a multipart upload stored so far, by part number, with the ETag each PUT answered (what
   * `completeMultipartUpload` needs). Throws `StorageError` (`not_found`) when the upload does not exist (completed,
   * aborted or never made).
   */
  listParts(key: string, uploadId: string): Promise<StoredPart[]>;
  /** Resolves when the storage answers; rejects otherwise (used by `/readyz`). */
  ping(): Promise<void>;
  /** Releases clients and sockets. */
  close(): Promise<void>;
}

/** What kind of storage failure happened, for callers that act on it (404 vs 503, retry or not). */
export const StorageErrorCode = {
  /** The object, upload or bucket does not exist. */
  NotFound: 'not_found',
  /** The key or prefix is not acceptable (empty, `..` segments, leading `/`, control characters). */
  InvalidKey: 'invalid_key',
  /** The storage refused the credentials or the request. */
  AccessDenied: 'access_denied',
  /** A request the storage rejects as malformed (bad part list, missing length, ...). */
  InvalidRequest: 'invalid_request',
  /** A conditional write found the object already there (`If-None-Match: *`). */
  PreconditionFailed: 'precondition_failed',
  /** The disk (or quota) is full: nothing more can be stored until space is freed. */
  InsufficientStorage: 'insufficient_storage',
  /** The storage did not answer, answered 5xx, throttled or timed out: a retry may help. */
  Unavailable: 'unavailable',
  /** Any other failure. */
  Failed: 'failed',
} as const;
export type StorageErrorCode = (typeof StorageErrorCode)[keyof typeof StorageErrorCode];

/** Thrown by storage implementations; `transient` tells the job runner whether a retry may help. */
export class StorageError extends Error {
  override readonly name = 'StorageError';
  /** Defaults to `unavailable` for transient errors and `failed` otherwise. */
  readonly code: StorageErrorCode;
  /**
   * The storage gave no answer at all (connection refused, reset or timed out, name not resolved): an outage, as
   * opposed to an answer that says "not now" (5xx, throttling), which counts against a job's attempts.
   */
  readonly unreachable: boolean;
  constructor(
    message: string,
    readonly transient: boolean,
    options?: { cause?: unknown; code?: StorageErrorCode; unreachable?: boolean },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = options?.code ?? (transient ? StorageErrorCode.Unavailable : StorageErrorCode.Failed);
    this.unreachable = options?.unreachable ?? false;
  }
}

/**
 * Whether `error`, or an error it was caused by (a generation's `MediaError` keeps the storage's error as its
 * cause), is a {@link StorageError} of a storage that could not be reached at all.
 */
export function isStorageUnreachable(error: unknown, depth = 0): boolean {
  if (depth > 6 || typeof error !== 'object' || error === null) return false;
  if (error instanceof StorageError && error.unreachable) return true;
  const { cause, details } = error as { cause?: unknown; details?: { cause?: unknown } };
  return isStorageUnreachable(cause, depth + 1) || isStorageUnreachable(details?.cause, depth + 1);
}

/** `Retry-After` of a 503 answered while the bucket is out of reach. */
export const STORAGE_RETRY_AFTER_SECONDS = 5;

/**
 * `error` in the service's words when it says the storage is out of reach (a transient {@link StorageError}): an
 * {@link UnavailableError} to be answered with 503 and `Retry-After`; `undefined` for any other error.
 */
export function storageUnavailableError(error: unknown): UnavailableError | undefined {
  if (!(error instanceof StorageError) || error.code !== StorageErrorCode.Unavailable) return undefined;
  return new UnavailableError('Storage is not answering; try again shortly.', STORAGE_RETRY_AFTER_SECONDS, {
    cause: error,
  });
}

export { MAX_PRESIGN_SECONDS } from '../config/presign-limit.js';
