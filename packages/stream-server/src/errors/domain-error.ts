/**
 * Error codes of the service, each documented in docs/errors/. A code says what went wrong in the service's own
 * words; the transport decides how to say it (HTTP statuses: src/http/errors.ts, the one mapping).
 */
export const ErrorCode = {
  BadRequest: 'bad_request',
  Unauthorized: 'unauthorized',
  Forbidden: 'forbidden',
  NotFound: 'not_found',
  Conflict: 'conflict',
  UploadIncomplete: 'upload_incomplete',
  NotFailed: 'not_failed',
  PayloadTooLarge: 'payload_too_large',
  UnsupportedMediaType: 'unsupported_media_type',
  /** A completed upload whose first bytes are no media container ffmpeg reads (a text file named `.mp4`). */
  NotAVideo: 'not_a_video',
  RateLimited: 'rate_limited',
  Unavailable: 'unavailable',
  InsufficientStorage: 'insufficient_storage',
  Internal: 'internal_error',
  // The answers of local storage's signed object URLs (`/storage/o/…`), the same words S3 uses for the same cases.
  SignatureMissing: 'signature_missing',
  SignatureInvalid: 'signature_invalid',
  UrlExpired: 'url_expired',
  InvalidKey: 'invalid_key',
  InvalidRequest: 'invalid_request',
  NoSuchUpload: 'no_such_upload',
  UploadClosed: 'upload_closed',
  PreconditionFailed: 'precondition_failed',
  RangeNotSatisfiable: 'range_not_satisfiable',
  StorageUnavailable: 'storage_unavailable',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** A failure a caller can act on, with its code and a readable message; services throw it, transports translate it. */
export class DomainError extends Error {
  override readonly name: string = 'DomainError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The request itself is wrong (a malformed value, a rule it breaks). */
export class InvalidInputError extends DomainError {
  override readonly name = 'InvalidInputError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.BadRequest, message, options);
  }
}

/** No valid credential (user token, service key, playback token). */
export class UnauthenticatedError extends DomainError {
  override readonly name = 'UnauthenticatedError';
  constructor(message = 'A valid bearer token is required.', options?: { cause?: unknown }) {
    super(ErrorCode.Unauthorized, message, options);
  }
}

/** A valid credential that does not allow this. */
export class ForbiddenError extends DomainError {
  override readonly name = 'ForbiddenError';
  constructor(message: string) {
    super(ErrorCode.Forbidden, message);
  }
}

/** Unknown, or not the caller's (the two look the same, so nobody learns that another user's video exists). */
export class NotFoundError extends DomainError {
  override readonly name = 'NotFoundError';
  constructor(message = 'No such video.') {
    super(ErrorCode.NotFound, message);
  }
}

/**
 * A dependency (the database, the bucket) is out of reach for now: nothing is wrong with the request, and the same
 * request is worth sending again after `retryAfterSeconds` (the transport says so, e.g. `Retry-After` on a 503).
 */
export class UnavailableError extends DomainError {
  override readonly name = 'UnavailableError';
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
    options?: { cause?: unknown; code?: typeof ErrorCode.Unavailable | typeof ErrorCode.StorageUnavailable },
  ) {
    super(options?.code ?? ErrorCode.Unavailable, message, options);
  }
}

/** The thing exists but is not in a state that allows this now (`code` says which state). */
export class ConflictError extends DomainError {
  override readonly name = 'ConflictError';
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
