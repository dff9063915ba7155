import { isStreamError } from './errors.js';

/** Network errors and 5xx answers are worth another try; everything else (4xx, failed, abort) is final. */
export const isRetryable = (error: unknown): boolean =>
  isStreamError(error) && (error.name == 'StreamNetworkError' || error.status! >= 500);

/**
 * A 503 that says when to come back (`Retry-After`): the service is up but a dependency is away for a while (an
 * outage it rides out). Waiting on it is not a failed attempt: it never uses up the retry limit.
 */
export const isComeBackLater = (error: unknown): boolean =>
  isStreamError(error) && error.status === 503 && !!(error as { retryAfterMs?: number }).retryAfterMs;

/**
 * Delay before retry number `failures` (1-based): the server's `Retry-After` when it sent one, else
 * `min(maxDelay, baseDelay * 2^(failures-1))` scaled by a jitter factor in [0.5, 1).
 */
export const backoffDelay = (
  error: unknown,
  failures: number,
  baseDelay: number,
  maxDelay: number,
  random: () => number,
): number =>
  (error as { retryAfterMs?: number }).retryAfterMs ||
  Math.min(maxDelay, baseDelay * 2 ** (failures - 1)) * (0.5 + random() / 2);
