import type { StreamClock } from './types.js';

/** Resolves after `ms` (capped at setTimeout's limit); rejects with `signal.reason` on abort and clears its timer. */
const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    const abort = (): void => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(
      () => {
        signal.removeEventListener('abort', abort);
        resolve();
      },
      Math.min(ms, 2 ** 31 - 1),
    );
    if (signal.aborted) abort();
    else signal.addEventListener('abort', abort, { once: true });
  });

/** Fills the parts of a clock the caller did not inject with real time. */
export const createClock = (clock: Partial<StreamClock> = {}): StreamClock => ({
  now: clock.now ?? Date.now,
  sleep: clock.sleep ?? sleep,
  random: clock.random ?? Math.random,
});
