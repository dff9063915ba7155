/** The media a `SeekWatchdog` watches: a `<video>`, or a stand-in in tests. */
export type WatchedMedia = Pick<HTMLMediaElement, 'currentTime' | 'seeking' | 'buffered'> & EventTarget;

/** Timers a `SeekWatchdog` uses (`globalThis`'s unless given). */
export interface WatchdogClock {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface SeekWatchdogOptions {
  /** How long a seek may stay pending with its target buffered before it counts as stuck (default 3000 ms). */
  timeoutMs?: number;
  /** The seek stayed stuck after one re-seek to its target. */
  onStuck(target: number): void;
  clock?: WatchdogClock;
}

/**
 * Watches for a seek that never completes. WebKit sometimes leaves a seek made before the first frame pending
 * forever although its target is buffered; a second seek to the same target unsticks it at once. So: when a seek is
 * still pending `timeoutMs` after it started and its target is buffered, seek there once more; if that one sticks
 * too, report it. A seek whose target is not buffered yet is waiting for the network, not stuck: it is watched
 * again after another `timeoutMs`.
 */
export class SeekWatchdog {
  #media: WatchedMedia;
  #timeoutMs: number;
  #onStuck: (target: number) => void;
  #clock: WatchdogClock;
  #timer: unknown = null;
  #target = 0;
  #reseeked = false;
  /** The re-seek this watchdog made itself: its `seeking` event continues the watch rather than starting one. */
  #ownSeek = false;

  constructor(media: WatchedMedia, options: SeekWatchdogOptions) {
    this.#media = media;
    this.#timeoutMs = options.timeoutMs ?? 3000;
    this.#onStuck = options.onStuck;
    this.#clock = options.clock ?? globalThis;
    media.addEventListener('seeking', this.#onSeeking);
    media.addEventListener('seeked', this.#stopWatching);
    media.addEventListener('emptied', this.#stopWatching);
  }

  /** Stops watching and removes the listeners. */
  destroy(): void {
    this.#stopWatching();
    this.#media.removeEventListener('seeking', this.#onSeeking);
    this.#media.removeEventListener('seeked', this.#stopWatching);
    this.#media.removeEventListener('emptied', this.#stopWatching);
  }

  #onSeeking = (): void => {
    if (this.#ownSeek) {
      this.#ownSeek = false;
      return;
    }
    this.#target = this.#media.currentTime;
    this.#reseeked = false;
    this.#arm();
  };

  #stopWatching = (): void => {
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
    this.#timer = null;
    this.#ownSeek = false;
  };

  #arm(): void {
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
    this.#timer = this.#clock.setTimeout(this.#check, this.#timeoutMs);
  }

  #check = (): void => {
    this.#timer = null;
    const media = this.#media;
    if (!media.seeking) return;
    if (!isBuffered(media.buffered, this.#target)) {
      this.#arm();
      return;
    }
    if (this.#reseeked) {
      this.#onStuck(this.#target);
      return;
    }
    this.#reseeked = this.#ownSeek = true;
    this.#arm();
    media.currentTime = this.#target;
  };
}

function isBuffered(ranges: TimeRanges, time: number): boolean {
  for (let i = 0; i < ranges.length; i++) {
    if (time >= ranges.start(i) - 0.1 && time <= ranges.end(i) + 0.1) return true;
  }
  return false;
}
