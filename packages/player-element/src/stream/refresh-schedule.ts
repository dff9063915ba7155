import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { playerTiming } from '../player-timing.js';

/** The element whose re-checks of `/stream` this controller schedules. */
export interface RefreshScheduleHost extends ReactiveControllerHost {
  readonly media: HTMLVideoElement;
}

/**
 * Re-checks `/stream` on its own while the video plays, so that renditions, captions and chapters that arrive after
 * `ready` (see docs/decisions/0028) show without a reload: first 30 s after playback starts, then after twice as long
 * each time nothing was new (up to 5 min), again soon after something was. Nothing while paused, ended or hidden.
 * After six re-checks in a row found nothing new the stream is taken as final and it stops until the next load.
 */
export class RefreshSchedule implements ReactiveController {
  #host: RefreshScheduleHost;
  /** One re-check: whether something changed, or null when there was nothing to check (not counted). */
  #check: () => Promise<boolean | null>;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** A re-check is in flight. */
  #busy = false;
  #delay = 0;
  /** Re-checks in a row that found nothing new. */
  #quiet = 0;

  constructor(host: RefreshScheduleHost, check: () => Promise<boolean | null>) {
    this.#host = host;
    this.#check = check;
    host.addController(this);
    this.reset();
  }

  /** The stream is taken as final: no more re-checks until the next load. */
  get settled(): boolean {
    return this.#quiet >= playerTiming.refreshSettleChecks;
  }

  hostConnected(): void {
    for (const type of EVENTS) this.#host.media.addEventListener(type, this.#update);
    document.addEventListener('visibilitychange', this.#update);
  }

  hostDisconnected(): void {
    for (const type of EVENTS) this.#host.media.removeEventListener(type, this.#update);
    document.removeEventListener('visibilitychange', this.#update);
    this.#stop();
  }

  /** A new load: its stream may change again, look from the start. */
  reset(): void {
    this.#delay = playerTiming.refreshFirstMs;
    this.#quiet = 0;
    this.#stop();
  }

  /** A re-check (scheduled or the host's) found something new, or nothing. */
  checked(changed: boolean | null): void {
    if (changed) this.reset();
    else if (changed === false) {
      this.#quiet++;
      this.#delay = Math.min(this.#delay * 2, playerTiming.refreshMaxMs);
    }
  }

  #stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #update = (): void => {
    const video = this.#host.media;
    if (video.paused || video.ended || document.visibilityState === 'hidden' || this.settled) this.#stop();
    else if (!this.#timer && !this.#busy) {
      this.#timer = setTimeout(async () => {
        this.#timer = undefined;
        this.#busy = true;
        await this.#check();
        this.#busy = false;
        this.#update();
      }, this.#delay);
    }
  };
}

const EVENTS = ['playing', 'pause', 'ended'] as const;
