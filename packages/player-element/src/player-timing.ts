/**
 * How often the player does its background work, in milliseconds. These are the product's values; the browser tests
 * shorten them (this module is not exported from the package).
 */
export const playerTiming = {
  /** Between two viewing reports (each only when something happened since the last one). */
  analyticsFlushMs: 30_000,
  /** From playing to the first re-check of `/stream` for new renditions, captions and chapters. */
  refreshFirstMs: 30_000,
  /** The longest wait between two re-checks: each one that finds nothing new doubles the wait up to this. */
  refreshMaxMs: 5 * 60_000,
  /** Re-checks in a row that find nothing new after which the player stops looking until the next load. */
  refreshSettleChecks: 6,
};
