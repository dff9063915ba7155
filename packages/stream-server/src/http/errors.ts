import { DomainError, ErrorCode } from '../errors/domain-error.js';

/** The codes the API answers with (the service's error codes, documented in docs/errors/). */
export const ApiErrorCode = ErrorCode;
export type ApiErrorCode = ErrorCode;

/** The errors the API answers with: `{ error: { code, message } }` with the status of `httpStatus(code)`. */
export { DomainError as ApiError };

/** The one mapping from the service's error codes to HTTP statuses. */
const STATUS: Record<
  ErrorCode,
  400 | 401 | 403 | 404 | 409 | 412 | 413 | 415 | 416 | 422 | 429 | 500 | 503 | 507
> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  upload_incomplete: 409,
  not_failed: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  not_a_video: 422,
  rate_limited: 429,
  unavailable: 503,
  insufficient_storage: 507,
  internal_error: 500,
  signature_missing: 403,
  signature_invalid: 403,
  url_expired: 403,
  invalid_key: 400,
  invalid_request: 400,
  no_such_upload: 404,
  upload_closed: 403,
  precondition_failed: 412,
  range_not_satisfiable: 416,
  storage_unavailable: 503,
};

export function httpStatus(code: ErrorCode) {
  return STATUS[code];
}

/** `Retry-After` (seconds) of a 503 whose error names no wait of its own. */
export const DEFAULT_RETRY_AFTER_SECONDS = 5;

/**
 * The `Retry-After` header of an error answer: every 503 carries one (the error's own wait when it names one, see
 * `UnavailableError`), so clients can tell "try again shortly" from a failure; other statuses carry none.
 */
export function retryAfterHeader(error: DomainError): Record<string, string> {
  if (httpStatus(error.code) !== 503) return {};
  const seconds = (error as { retryAfterSeconds?: unknown }).retryAfterSeconds;
  const wait = typeof seconds === 'number' && seconds > 0 ? Math.ceil(seconds) : DEFAULT_RETRY_AFTER_SECONDS;
  return { 'Retry-After': String(wait) };
}
