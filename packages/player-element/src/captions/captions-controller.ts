import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { PlaybackEngine, SubtitleRendition } from '../engine/playback-engine.js';

/** A captions or subtitles choice: a `<track>` child or a subtitle rendition of the stream. */
export type CaptionTrack = SubtitleRendition;

/**
 * Marks the copies of the element's `<track>` children inside its video: hls.js adds `<track>` elements of its own
 * there for the stream's subtitle renditions, which the element must neither list twice nor remove.
 */
const HOST_TRACK = 'data-host-track';

/** The element whose `<track>` children are copied into its video. */
export interface CaptionsHost extends ReactiveControllerHost, HTMLElement {
  readonly media: HTMLVideoElement;
  /** Language (BCP 47 tag or its prefix) of the captions to show until the viewer chooses. */
  readonly defaultCaptions: string | null;
}

/** The stream's own subtitle renditions, as the current playback engine has them. */
export type StreamSubtitles = Pick<PlaybackEngine, 'subtitles' | 'subtitle'>;

/**
 * Captions of `<notetaker-player>`: copies the host's `<track>` children into its video (and keeps them in step),
 * lists them before the stream's subtitle renditions, shows the one chosen, and shows the `default-captions` one
 * until the viewer chooses.
 */
export class CaptionsController implements ReactiveController {
  #host: CaptionsHost;
  #stream: () => StreamSubtitles | null;
  #observer: MutationObserver | null = null;
  /** The captions shown are the viewer's (or the default one was seen showing): leave them alone. */
  #chosen = false;

  /** `stream` returns the current engine's subtitle renditions, or null when nothing is loaded. */
  constructor(host: CaptionsHost, stream: () => StreamSubtitles | null) {
    this.#host = host;
    this.#stream = stream;
    host.addController(this);
  }

  hostConnected(): void {
    this.#observer = new MutationObserver(this.#syncTracks);
    this.#observer.observe(this.#host, { childList: true, subtree: true, attributes: true });
    this.#syncTracks();
  }

  hostDisconnected(): void {
    this.#observer?.disconnect();
    this.#observer = null;
  }

  /** Captions and subtitles to choose from: `<track>` children first, then the stream's subtitle renditions. */
  get tracks(): readonly CaptionTrack[] {
    return [
      ...this.#textTracks().map(({ label, language }) => ({ label, language })),
      ...(this.#stream()?.subtitles ?? []),
    ];
  }

  /** Index into `tracks` of the captions shown, or -1 for none. */
  get track(): number {
    const own = this.#textTracks();
    const shown = own.findIndex((track) => track.mode === 'showing');
    const stream = this.#stream()?.subtitle ?? -1;
    return shown >= 0 ? shown : stream >= 0 ? own.length + stream : -1;
  }

  /** The viewer's choice: from now on the default captions no longer apply. */
  set track(index: number) {
    this.#chosen = true;
    this.#show(index);
  }

  /** A new load starts: its stream may bring the default captions again. */
  reset(): void {
    this.#chosen = false;
  }

  /**
   * The stream's subtitle renditions may have changed. Runs after hls.js's own handling of the change: it picks its
   * default subtitle track right after announcing them.
   */
  streamChanged(): void {
    queueMicrotask(() => this.applyDefault());
  }

  /**
   * Shows the `default-captions` track until it is seen showing; from then on captions are the viewer's to change.
   * hls.js picks its own subtitle track when it groups its tracks, so this runs again on engine changes.
   */
  applyDefault(): void {
    const language = this.#host.defaultCaptions?.toLowerCase();
    if (!language || this.#chosen) return;
    const index = this.tracks.findIndex((track) => track.language.toLowerCase().startsWith(language));
    if (index < 0) return;
    if (this.track === index) this.#chosen = true;
    else this.#show(index);
  }

  #textTracks(): TextTrack[] {
    return [...this.#host.media.querySelectorAll<HTMLTrackElement>(`track[${HOST_TRACK}]`)]
      .map((element) => element.track)
      .filter((track) => track.kind === 'captions' || track.kind === 'subtitles');
  }

  #show(index: number): void {
    const own = this.#textTracks();
    own.forEach((track, i) => (track.mode = i === index ? 'showing' : 'disabled'));
    const stream = this.#stream();
    if (stream) stream.subtitle = index < own.length ? -1 : index - own.length;
    this.#host.requestUpdate();
  }

  #syncTracks = (records?: MutationRecord[]): void => {
    const host = this.#host;
    // Only the `<track>` children and their attributes matter, not the element's own (it sets `state` itself).
    if (records?.every((record) => record.target === host && record.type === 'attributes')) return;
    const video = host.media;
    for (const track of video.querySelectorAll(`track[${HOST_TRACK}]`)) track.remove();
    for (const track of host.querySelectorAll(':scope > track')) {
      const copy = track.cloneNode(true) as HTMLTrackElement;
      copy.setAttribute(HOST_TRACK, '');
      video.append(copy);
      // A track whose mode was set is left alone by the browser's automatic caption choice, which Chromium runs
      // again whenever a track is added (hls.js adds its own): it would show this one beside the one chosen here.
      // A `default` track is the browser's to show.
      if (!copy.default) {
        copy.track.mode = 'hidden';
        copy.track.mode = 'disabled';
      }
    }
    this.#chosen = false;
    this.applyDefault();
    host.requestUpdate();
  };
}
