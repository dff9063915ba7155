/** Error codes the API answers with, each documented in docs/errors/. */
export const ApiErrorCode = {
  BadRequest: 'bad_request',
  Unauthorized: 'unauthorized',
  Forbidden: 'forbidden',
  NotFound: 'not_found',
  Conflict: 'conflict',
  UploadIncomplete: 'upload_incomplete',
  NotFailed: 'not_failed',
  PayloadTooLarge: 'payload_too_large',
  UnsupportedMediaType: 'unsupported_media_type',
  RateLimited: 'rate_limited',
  Unavailable: 'unavailable',
  InsufficientStorage: 'insufficient_storage',
  Internal: 'internal_error',
} as const;
export type ApiErrorCode = (typeof ApiErrorCode)[keyof typeof ApiErrorCode];

/** A failure with an HTTP meaning; the app's one error handler turns it into `{ error: { code, message } }`. */
export class ApiError extends Error {
  override readonly name: string = 'ApiError';
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 415 | 429 | 500 | 503 | 507,
    readonly code: ApiErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class BadRequestError extends ApiError {
  override readonly name = 'BadRequestError';
  constructor(message: string) {
    super(400, ApiErrorCode.BadRequest, message);
  }
}

export class UnauthorizedError extends ApiError {
  override readonly name = 'UnauthorizedError';
  constructor(message = 'A valid bearer token is required.', options?: { cause?: unknown }) {
    super(401, ApiErrorCode.Unauthorized, message, options);
  }
}

export class ForbiddenError extends ApiError {
  override readonly name = 'ForbiddenError';
  constructor(message: string) {
    super(403, ApiErrorCode.Forbidden, message);
  }
}

export class NotFoundError extends ApiError {
  override readonly name = 'NotFoundError';
  constructor(message = 'No such video.') {
    super(404, ApiErrorCode.NotFound, message);
  }
}

export class ConflictError extends ApiError {
  override readonly name = 'ConflictError';
  constructor(code: ApiErrorCode, message: string) {
    super(409, code, message);
  }
}
