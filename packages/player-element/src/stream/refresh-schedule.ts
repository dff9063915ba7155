import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { playerTiming } from '../player-timing.js';

/** The element whose re-checks of `/stream` this controller schedules. */
export interface RefreshScheduleHost extends ReactiveControllerHost {
  readonly media: HTMLVideoElement;
  readonly isConnected: boolean;
}

/**
 * Re-checks `/stream` on its own while the video plays, so that renditions, captions and chapters that arrive after
 * `ready` show without a reload (docs/decisions/0028): 30 s after the load, then after twice as long each time
 * nothing was new (up to 5 min), again after 30 s once something was. Nothing is asked while paused, ended or hidden.
 * After six re-checks in a row found nothing new, the stream is taken as final: no more until the next load.
 */
export class RefreshSchedule implements ReactiveController {
  #host: RefreshScheduleHost;
  /** One re-check; it reports its result through `checked`. */
  #check: () => Promise<unknown>;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #delay = 0;
  /** Re-checks in a row that found nothing new. */
  #quiet = 0;

  constructor(host: RefreshScheduleHost, check: () => Promise<unknown>) {
    this.#host = host;
    this.#check = check;
    host.addController(this);
  }

  hostConnected(): void {
    this.reset();
  }

  hostDisconnected(): void {
    clearTimeout(this.#timer);
  }

  /** A new load: its stream may change again, look from the start. */
  reset(): void {
    this.#delay = playerTiming.refreshFirstMs;
    this.#quiet = 0;
    this.#arm();
  }

  /** A re-check (the schedule's or the host's) found something new (`true`), nothing (`false`), or could not look. */
  checked(changed: boolean | null): void {
    if (changed) this.reset();
    else if (changed === false) {
      this.#quiet++;
      this.#delay = Math.min(this.#delay * 2, playerTiming.refreshMaxMs);
    }
  }

  #arm(): void {
    clearTimeout(this.#timer);
    if (!this.#host.isConnected || this.#quiet >= playerTiming.refreshSettleChecks) return;
    this.#timer = setTimeout(async () => {
      const video = this.#host.media;
      if (!video.paused && !video.ended && !document.hidden) await this.#check();
      this.#arm();
    }, this.#delay);
  }
}
