import type { StreamClock } from '../src/index.js';

interface Timer {
  due: number;
  resolve: () => void;
}

/**
 * A virtual clock for `{ clock }` options. Time only moves when the test says so:
 * `advance(ms)` fires the timers due within `ms`; `run(promise)` fires the earliest pending timer every time
 * the code under test starts a new sleep (it is then idle, waiting on time) until `promise` settles.
 */
export interface FakeClock extends StreamClock {
  /** Every `sleep` duration, in call order. */
  readonly delays: number[];
  /** Timers neither fired nor cancelled. */
  readonly pending: number;
  advance(ms: number): void;
  run<T>(promise: Promise<T>): Promise<T>;
  /** Resolves on the next `sleep` call. */
  nextSleep(): Promise<void>;
}

export const createFakeClock = (random: () => number = () => 0.5): FakeClock => {
  let now = 0;
  let timers: Timer[] = [];
  const delays: number[] = [];
  let onSleep: (() => void)[] = [];

  const fire = (timer: Timer): void => {
    timers = timers.filter((t) => t !== timer);
    now = Math.max(now, timer.due);
    timer.resolve();
  };
  const earliest = (): Timer | undefined => [...timers].sort((a, b) => a.due - b.due)[0];

  const clock: FakeClock = {
    delays,
    get pending() {
      return timers.length;
    },
    now: () => now,
    random,
    sleep(ms, signal) {
      delays.push(ms);
      const waiting = onSleep;
      onSleep = [];
      for (const notify of waiting) notify();
      return new Promise<void>((resolve, reject) => {
        if (signal.aborted) return reject(signal.reason);
        const timer: Timer = {
          due: now + ms,
          resolve: () => {
            signal.removeEventListener('abort', abort);
            resolve();
          },
        };
        const abort = (): void => {
          timers = timers.filter((t) => t !== timer);
          reject(signal.reason);
        };
        timers.push(timer);
        signal.addEventListener('abort', abort, { once: true });
      });
    },
    advance(ms) {
      const target = now + ms;
      for (let t = earliest(); t && t.due <= target; t = earliest()) fire(t);
      now = target;
    },
    nextSleep: () => new Promise<void>((resolve) => onSleep.push(resolve)),
    async run(promise) {
      let settled = false;
      promise.then(
        () => (settled = true),
        () => (settled = true),
      );
      while (!settled) {
        await Promise.race([promise.catch(() => {}), clock.nextSleep()]);
        const next = earliest();
        if (!settled && next) fire(next);
      }
      return promise;
    },
  };
  return clock;
};
