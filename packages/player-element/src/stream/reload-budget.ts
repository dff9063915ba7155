/** Reloads (fresh URL) allowed within a minute before the player gives up. */
export const MAX_RELOADS_PER_MINUTE = 3;

const MINUTE_MS = 60_000;

/**
 * Counts the loads with a fresh `/stream` URL that playback errors asked for over the last minute, so that a URL
 * refused again and again ends in an error instead of a loop.
 */
export class ReloadBudget {
  #times: number[] = [];
  #now: () => number;

  /** `now`: a clock in milliseconds (default `performance.now`). */
  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
  }

  /** Counts one reload; `false` when it is one too many for the last minute (it still counts). */
  take(): boolean {
    const now = this.#now();
    this.#times = this.#times.filter((time) => now - time < MINUTE_MS);
    return this.#times.push(now) <= MAX_RELOADS_PER_MINUTE;
  }

  /** Forgets the reloads so far: the viewer asked to try again. */
  reset(): void {
    this.#times = [];
  }
}
